package gateway

import "testing"

// Every modem's blocked port reader gets a processor of its own, beside
// those of the machine.
func TestProcsFor(t *testing.T) {
	for _, c := range []struct{ cpus, modems, want int }{
		{2, 1, 3}, {2, 4, 6}, {4, 0, 4}, {0, 2, 3}, {1, -1, 1},
	} {
		if got := ProcsFor(c.cpus, c.modems); got != c.want {
			t.Errorf("ProcsFor(%d, %d) = %d, want %d", c.cpus, c.modems, got, c.want)
		}
	}
}
