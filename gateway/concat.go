package gateway

import (
	"context"
	"strings"
	"time"
	"unicode"

	"vigie/gateway/apitype"
	"vigie/gateway/phone"
)

// concatSweepEvery is how often the parts of concatenated SMS waiting for
// others are checked against sms.concat_window: a quarter of it, so an
// SMS whose last part is lost reaches the inbox soon after the window,
// between a second and a minute.
func concatSweepEvery(window time.Duration) time.Duration {
	return min(max(window/4, time.Second), time.Minute)
}

// concatLoop closes, now and then, the concatenated SMS whose window passed
// with parts missing: nothing else would, as no new part comes to notice.
// What came reaches the inbox marked incomplete (handleInbound).
func (g *Gateway) concatLoop(ctx context.Context) {
	window := g.cfg.SMS.ConcatWindow
	t := time.NewTicker(concatSweepEvery(window))
	defer t.Stop()
	beat := g.loops["concat"]
	defer beat.park()
	for {
		beat.stamp(g.mono())
		// Not at once: the workers first read what waits in the modems,
		// which may be the parts missing after a restart.
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		ins, err := g.store.ExpireIncompleteParts(g.now(), window)
		if err != nil {
			g.log.Error("close incomplete SMS", "err", err)
			continue
		}
		for _, in := range ins {
			g.handleInbound(in)
		}
	}
}

// senderKind says why the sender of in cannot be a shopkeeper's phone,
// or "" if it can: the modem's type of number (an alphanumeric name that
// spells "0612345679" is not that number), then the digits (a short code,
// a name the modem reported as a number), then the station's numbering
// plan.
func (g *Gateway) senderKind(from, kind string) string {
	switch {
	case kind != "":
		return kind
	case phone.IsShortOrAlpha(from):
		if strings.IndexFunc(strings.TrimPrefix(strings.TrimSpace(from), "+"), notDigitOrSpace) >= 0 {
			return apitype.SenderAlphanumeric
		}
		return apitype.SenderShortCode
	}
	if _, err := phone.Normalize(from, g.cfg.Station.Region); err != nil {
		return apitype.SenderInvalid
	}
	return ""
}

func notDigitOrSpace(r rune) bool { return (r < '0' || r > '9') && !unicode.IsSpace(r) }
