package gateway

// ProcsFor is the number of Go processors (GOMAXPROCS) a daemon driving
// modems needs on a machine whose runtime would use cpus: one more per
// modem.
//
// go.bug.st/serial reads a port in a blocking select(2), not through the
// runtime's network poller, so each modem's reader holds an OS thread and,
// once its data came, the processor it ran on: the goroutines it woke (the
// AT driver's, the sender's) wait on that processor's queue while the
// reader is back in select(2), until the runtime's monitor takes the
// processor back, which it does every 10 ms or so when the process has been
// idle. With as many modems as processors every processor can be held so,
// and each SMS then waited 4-19 ms after the modem's answer (figure (b),
// 2 CPUs: 1.022 and 1.034 × the modems' own time with 2 and 4 modems; 1.006
// and 1.004 with one processor more per modem). A processor more per
// modem leaves one free for the woken goroutines; the extra ones cost
// nothing while idle.
func ProcsFor(cpus, modems int) int {
	return max(cpus, 1) + max(modems, 0)
}
