package api

import (
	"net"
	"sync"
	"time"
)

// Bounds on what one client of the socket can hold. Every member of the
// group can connect; none may take the daemon's memory or file descriptors
// (the modem is reopened through the same table) by opening connections and
// never finishing a request, trickling a body, or reading an answer slowly.
const (
	// maxConns is the most connections served at once: the CLI uses one per
	// command, a few operators and scripts never need more.
	maxConns          = 64
	maxConnsPerUser   = 16
	readHeaderTimeout = 10 * time.Second
	// readTimeout covers the body too: the CLI sends it at once (an import's
	// CSV is a few megabytes at most, on a local socket).
	readTimeout = 30 * time.Second
	// writeTimeout bounds the handler and the answer: an import of 6,000 rows
	// hashes each number (memory-hard) and must fit. The backup, streamed,
	// moves its deadline on at every chunk instead (backup.go).
	writeTimeout   = 2 * time.Minute
	idleTimeout    = 30 * time.Second
	maxHeaderBytes = 16 << 10
)

// limits are the bounds a server applies; tests shorten them.
type limits struct {
	conns, connsPerUser           int
	readHeader, read, write, idle time.Duration
}

var defaultLimits = limits{
	conns: maxConns, connsPerUser: maxConnsPerUser,
	readHeader: readHeaderTimeout, read: readTimeout, write: writeTimeout, idle: idleTimeout,
}

// limitListener accepts at most conns connections at once, and at most
// connsPerUser from one uid (read from the socket, SO_PEERCRED), so that one
// member of the group cannot shut the others out. A connection beyond is
// closed at once rather than queued: it costs a file descriptor for an
// instant only, and the CLI behind it fails fast instead of hanging.
type limitListener struct {
	net.Listener
	lim limits
	// onFlood is told how many connections were refused since the last
	// one served, so that a flood is logged once, not per connection.
	onFlood func(refused int)

	mu      sync.Mutex
	open    int
	perUser map[int]int
	refused int
}

func newLimitListener(l net.Listener, lim limits, onFlood func(int)) *limitListener {
	return &limitListener{Listener: l, lim: lim, onFlood: onFlood, perUser: map[int]int{}}
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		uid := -1 // not a Unix socket (tests): one bucket for all
		if cred, ok := peerCred(c); ok {
			uid = int(cred.Uid)
		}
		l.mu.Lock()
		if l.open >= l.lim.conns || l.perUser[uid] >= l.lim.connsPerUser {
			l.refused++
			l.mu.Unlock()
			c.Close()
			continue
		}
		l.open++
		l.perUser[uid]++
		refused := l.refused
		l.refused = 0
		l.mu.Unlock()
		if refused > 0 && l.onFlood != nil {
			l.onFlood(refused)
		}
		return &slotConn{Conn: c, release: func() { l.release(uid) }}, nil
	}
}

func (l *limitListener) release(uid int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.open--
	if l.perUser[uid]--; l.perUser[uid] <= 0 {
		delete(l.perUser, uid)
	}
}

// slotConn gives its slot back when closed, once.
type slotConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *slotConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
