package apitype

// Zones is what `vigie zones` shows: the zones and trades of the
// configuration with how many active subscribers each has.
type Zones struct {
	Zones  []Zone  `json:"zones"`
	Trades []Trade `json:"trades"`
}

// Zone is a configured zone and its active subscribers.
type Zone struct {
	ID      string   `json:"id"`
	Name    string   `json:"name"`
	Parent  string   `json:"parent,omitempty"`
	Aliases []string `json:"aliases"`
	// Subscribers are active subscribers of this very zone; Reach is how
	// many an alert to the zone reaches, its sub-zones included.
	Subscribers int `json:"subscribers"`
	Reach       int `json:"reach"`
}

// Trade is a configured trade and its active subscribers.
type Trade struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Aliases     []string `json:"aliases"`
	Subscribers int      `json:"subscribers"`
}
