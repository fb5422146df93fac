package render

import (
	"strings"
	"testing"
)

func TestRoom(t *testing.T) {
	for _, c := range []struct {
		prefix, signature string
		transliterate     bool
		parts, want       int
	}{
		{"", "", true, 1, 160},
		{"", "", true, 3, 459},
		{"Vigilance : ", " Fin.", true, 1, 160 - 17},
		{strings.Repeat("p", 100), strings.Repeat("s", 61), true, 1, -1},
		{"Saône : ", "", false, 1, 70 - 8}, // ô keeps the frame UCS-2
		{"Saône : ", "", true, 2, 2*153 - 8},
		{"{", "}", true, 1, 160 - 4}, // extension characters count two
	} {
		frame := Render(c.prefix, "", c.signature, c.transliterate)
		if got := Room(frame, c.parts); got != c.want {
			t.Errorf("Room(%q + %q, %d parts) = %d, want %d", c.prefix, c.signature, c.parts, got, c.want)
		}
	}
}
