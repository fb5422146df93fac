// Package charsets works around a data race in github.com/warthog618/sms
// v0.3.0: its GSM 7-bit character tables are built lazily, on first use,
// without locking, so the first concurrent encode and decode (the sender and
// the receiver of a modem) race. Ready builds every table once, before any
// concurrent use; afterwards the tables are only read.
package charsets

import (
	"sync"

	"github.com/warthog618/sms/encoding/gsm7/charset"
)

var once sync.Once

// Ready builds every character table of the sms library. Call it before
// encoding or decoding from more than one goroutine; it is cheap after the
// first call.
func Ready() {
	once.Do(func() {
		charset.DefaultDecoder()
		charset.DefaultEncoder()
		charset.DefaultExtEncoder()
		for nli := charset.Default; nli < charset.End; nli++ {
			charset.NewDecoder(nli)
			charset.NewExtDecoder(nli)
			charset.NewEncoder(nli)
			charset.NewExtEncoder(nli)
		}
	})
}
