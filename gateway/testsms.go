package gateway

import (
	"context"
	"fmt"
	"strings"

	"vigie/gateway/apitype"
	"vigie/gateway/phone"
	"vigie/gateway/render"
	"vigie/store"
)

// defaultTestText is sent by `vigie alert test` without a text.
const defaultTestText = "Vigilance commerce : SMS de test de la passerelle %s. Aucune action n'est demandée."

// SendTest queues one test SMS to a number (usually the operator's own
// phone), ahead of alert messages: it proves the modem, the SIM and the
// line work end to end. A number that sent STOP is refused, not messaged.
// The queued SMS and its audit record commit together.
func (g *Gateway) SendTest(ctx context.Context, req apitype.TestRequest, author string) (apitype.TestResult, error) {
	to, err := phone.Normalize(req.To, g.cfg.Station.Region)
	if err != nil {
		return apitype.TestResult{}, apitype.Invalid("numéro invalide : %q (un numéro de mobile, ex. 06 12 34 56 78)", req.To)
	}
	text := strings.TrimSpace(req.Text)
	if text == "" {
		text = fmt.Sprintf(defaultTestText, g.cfg.Station.Name)
	}
	suppressed, err := g.store.Suppressed(to)
	if err != nil {
		return apitype.TestResult{}, fmt.Errorf("check suppression of the test number: %w", err)
	}
	if suppressed {
		return apitype.TestResult{}, apitype.Invalid("le numéro %s a demandé STOP : aucun SMS ne lui est envoyé", phone.Mask(to))
	}
	r := render.Render("", text, "", g.cfg.SMS.Transliterate)
	if r.Parts > g.cfg.SMS.MaxParts {
		return apitype.TestResult{}, apitype.Invalid("texte trop long : %d SMS (%s, %d caractères), le maximum est %d",
			r.Parts, r.Encoding, r.Chars, g.cfg.SMS.MaxParts)
	}
	result := func(m store.Message) apitype.TestResult {
		return apitype.TestResult{Message: messageView(m), Text: r.Body, Encoding: string(r.Encoding), Parts: r.Parts}
	}
	au := g.operatorAudit(ctx)
	m, rec, err := g.store.EnqueueReplyAudited(store.KindTest, to, r.Body, r.Parts, false, g.now(), func(m store.Message) *store.AuditRecord {
		return au.record(result(m))
	})
	if err != nil {
		return apitype.TestResult{}, fmt.Errorf("queue test SMS: %w", err)
	}
	au.stored(rec)
	g.log.Info("test SMS queued", "id", m.ID, "to", phone.Mask(to), "author", author)
	g.wake()
	return result(m), nil
}
