package render

import "testing"

// BenchmarkRender renders a typical French alert as the gateway does for
// every alert and preview: framed by the prefix and signature, transliterated
// (’ « » œ ê â go to their GSM forms) and measured. Run by `make bench`.
func BenchmarkRender(b *testing.B) {
	const (
		prefix    = "Vigilance commerce 71 : "
		text      = "Vol à l’étalage « en bande » ce matin rue Carnot : deux individus, sœur et frère, casquettes noires, partis vers la gare. Ne pas intervenir, appeler le 17."
		signature = " Gendarmerie. STOP pour arrêter."
	)
	if got := Render(prefix, text, signature, true); got.Encoding != GSM7 || got.Parts != 2 {
		b.Fatalf("Render = %s in %d parts, want GSM7 in 2 parts", got.Encoding, got.Parts)
	}
	b.SetBytes(int64(len(prefix + text + signature)))
	b.ReportAllocs()
	for b.Loop() {
		Render(prefix, text, signature, true)
	}
}
