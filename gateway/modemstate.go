package gateway

import "vigie/gateway/apitype"

// modemState is a worker's control state: what its sender, probe and run
// loop decide on. The API's status string is derived from it for the
// operator (api), never read back to make a decision, so that a wording
// change in the API cannot change what the engine does.
type modemState int

// A worker's states; their API names are in api.
const (
	stateStarting    modemState = iota // opening the port, initialising
	stateReady                         // registered, sending and receiving
	stateNoNetwork                     // not registered: sending paused until it is
	stateSendBlocked                   // our SIM or line refuses SMS
	stateDailyCap                      // daily_cap reached: sending again tomorrow
	stateResetting                     // AT+CFUN=1,1 or USB reset sent
	stateSIMLocked                     // PIN/PUK needed or refused
	stateNoAnswer                      // the port opens but the modem stays silent
	stateFault                         // no device, port busy, other errors
	stateStopped                       // the daemon is stopping
)

// api is the state's name in the API (apitype.Modem*).
func (s modemState) api() string {
	switch s {
	case stateReady:
		return apitype.ModemReady
	case stateNoNetwork:
		return apitype.ModemNoNetwork
	case stateSendBlocked:
		return apitype.ModemSendBlocked
	case stateDailyCap:
		return apitype.ModemDailyCap
	case stateResetting:
		return apitype.ModemResetting
	case stateSIMLocked:
		return apitype.ModemSIMLocked
	case stateNoAnswer:
		return apitype.ModemNoAnswer
	case stateFault:
		return apitype.ModemFault
	case stateStopped:
		return apitype.ModemStopped
	}
	return apitype.ModemStarting
}
