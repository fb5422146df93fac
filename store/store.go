// Package store owns Vigie's durable state: subscribers and the suppression
// list, alerts, the outbox with its send queue and counters, and inbound SMS
// (parts awaiting reassembly, dedupe keys, the operators' inbox). Everything
// lives in one bbolt file; every operation is one transaction, so what a method
// reports as done is on disk. Apart is the suppression list's key file
// (keyfile.go), which must not travel with the database. The store does no
// I/O besides these two files (and their temporary copies) and never reads
// the clock: callers pass the time in.
//
// Bucket tree (integers are big-endian so byte order is numeric order; a
// "time" key is Unix nanoseconds with the sign bit flipped, so byte order is
// time order). The indexes whose keys come in increasing order
// (alert_messages, alert_recipients, queue, queue_age, sent, report_times)
// fill their pages whole, others to 90 % (fillPercents in live.go):
//
//	meta/
//	  schema                                  → u64: applied schema version
//	  audit_anchor                            → {"seq", "hash", "time"} (JSON): the last audit
//	                                            record retention purged (audit.go)
//	subscribers/
//	  <phone E.164>                           → Subscriber (JSON)
//	suppressed/
//	  <phone E.164>                           → suppression (JSON): STOP received
//	suppressed_keyed/                         (at the first erasure; key in the key file; erase.go)
//	  <argon2id(E.164, key)>                  → suppression (JSON): an erased number
//	suppressed_hashes/                        (earlier versions' erasures, HMAC-SHA256; erase.go)
//	alerts/                                   (NextSequence gives alert IDs)
//	  <alert id u64>                          → Alert (JSON)
//	alert_messages/
//	  <alert id u64><message id u64>          → empty: the messages of an alert
//	outbox/                                   (NextSequence gives message IDs)
//	  <message id u64>                        → Message: binary record, version byte 1
//	                                            (schema 7; msgcodec.go; JSON before),
//	                                            an alert message's text read from its alert
//	queue/
//	  <priority u8><due time><message id u64> → empty: exactly the queued messages
//	queue_age/                                (schema 2)
//	  <created time><message id u64>          → empty: the messages, by age (TTL): every queued
//	                                            or sending one (schema 7: a claim leaves its entry),
//	                                            final ones until ExpireQueued drops them
//	sending/
//	  <message id u64>                        → empty: exactly the messages being sent
//	counters/
//	  <state>                                 → u64: messages in that state
//	alert_counters/
//	  <alert id u64><state>                   → u64: that alert's messages in that state
//	alert_timeline/                           (schema 5; timeline.go; kept by retention)
//	  <alert id u64><event byte>              → time: a milestone (first, 50 %, 90 %, last
//	                                            sent; first/last report, failure, expiry; cancel)
//	  <alert id u64>k                         → sent u32, uncertain u32, reports u32, latest send time
//	alert_minutes/                            (schema 5; kept by retention)
//	  <alert id u64><minute since accepted u32> → sent u32, delivered u32, failed u32
//	sent/
//	  <sent time><message id u64>             → u32 parts: the log behind SentSince
//	report_refs/                              (schema 2)
//	  <len u16><modem><ref u16><n u8><last n digits of recipient>
//	  <sent time><message id u64><part u16>   → empty: delivery report matching
//	report_times/                             (schema 2)
//	  <sent time><message id u64><part u16>   → its report_refs key: purge by age
//	parts_per_day/                            (schema 2)
//	  <local day YYYY-MM-DD><modem>           → u64: SMS parts sent (daily_cap)
//	month_recipients/                         (schema 2)
//	  <local month YYYY-MM><phone>            → empty: distinct numbers sent to
//	replies/                                  (schema 2)
//	  <local day YYYY-MM-DD><phone>           → u64: automatic replies queued (days
//	                                            before the last reply's are purged)
//	  <local day YYYY-MM-DD>stop<phone>       → u64: STOP confirmations queued (counted apart)
//	code_requests/                            (schema 3)
//	  <local day YYYY-MM-DD><phone>           → u64: subscription requests that sent a code
//	reply_parts_per_day/                      (schema 3)
//	  <local day YYYY-MM-DD><modem>           → u64: reply parts sent (their share of daily_cap)
//	alert_recipients/                         (schema 4; witness.go)
//	  <alert id u64><phone E.164>             → u64 message id: who an alert reached
//	alert_replies/                            (schema 4)
//	  <alert id u64><inbound id u64>          → empty: the witness replies tied to an alert
//	alert_reply_counts/                       (schema 4; survives the purge)
//	  <alert id u64>                          → u64: witness replies ever tied to it
//	reply_days/                               (schema 4; survives the purge)
//	  <local day YYYY-MM-DD><alert id u64>    → u64: witness replies that day
//	forwards/                                 (schema 4)
//	  <local hour YYYY-MM-DDTHH>              → u64: witness replies forwarded that hour
//	sub_days/                                 (schema 6; never purged; history.go)
//	  <zone>\x00<trade>\x00<local day YYYY-MM-DD> → u32 ×4: joins, stops, erasures,
//	                                            active at the day's end (zone "": shop level)
//	parts_days/                               (schema 6; never purged)
//	  <local day YYYY-MM-DD><modem>           → u64: SMS parts sent (parts_per_day's history)
//	modem_days/                               (schema 6; never purged)
//	  <local day YYYY-MM-DD><modem>           → u64 ×2: milliseconds ready, observed
//	inbound/                                  (NextSequence gives inbound IDs)
//	  <inbound id u64>                        → Inbound (JSON)
//	unprocessed/
//	  <inbound id u64>                        → empty: saved, not yet handled
//	inbox/
//	  <inbound id u64>                        → empty, or the read time (u64 time): kept for the operators
//	parts/                                    (a sender is its From, or "<kind>\x00<From>"
//	                                            for a name or short code: senderID)
//	  <len u16><sender><ref u32><total u32><seq u32> → InboundPart (JSON): waiting
//	                                            for the others, at most concat_window
//	seen/
//	  <dedupe key>                            → time: when the part was received
//	audit/                                    (NextSequence gives record numbers; audit.go)
//	  <seq u64>                               → {"hash", "body": AuditRecord}: hash-chained,
//	                                            the oldest purged by retention
//
// Priority 0 is replies and tests, 1 is alert messages, so a reply to a
// shopkeeper goes ahead of an alert fan-out.
package store

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// Sentinel errors, to be classified with errors.Is.
var (
	// ErrNotFound: the alert, message or inbound SMS does not exist.
	ErrNotFound = errors.New("not found")
	// ErrLocked: another process (usually a running daemon) holds the database.
	ErrLocked = errors.New("database locked by another process")
	// ErrState: the message or inbound SMS is not in a state allowing the operation.
	ErrState = errors.New("invalid state for this operation")
	// ErrInvalid: the caller passed an argument the store cannot record.
	ErrInvalid = errors.New("invalid argument")
	// ErrSchema: the file was written by a newer Vigie with a schema this build does not know.
	ErrSchema = errors.New("unknown database schema")
)

// openTimeout bounds the wait for bbolt's file lock: a second opener fails
// fast instead of hanging forever behind a running daemon.
const openTimeout = time.Second

// Bucket names and fixed keys; see the package doc for the tree.
var (
	bucketMeta          = []byte("meta")
	keySchema           = []byte("schema")
	bucketSubscribers   = []byte("subscribers")
	bucketSuppressed    = []byte("suppressed")
	bucketAlerts        = []byte("alerts")
	bucketAlertMessages = []byte("alert_messages")
	bucketOutbox        = []byte("outbox")
	bucketQueue         = []byte("queue")
	bucketSending       = []byte("sending")
	bucketCounters      = []byte("counters")
	bucketAlertCounters = []byte("alert_counters")
	bucketSent          = []byte("sent")
	bucketInbound       = []byte("inbound")
	bucketUnprocessed   = []byte("unprocessed")
	bucketInbox         = []byte("inbox")
	bucketParts         = []byte("parts")
	bucketSeen          = []byte("seen")

	bucketQueueAge        = []byte("queue_age")
	bucketReportRefs      = []byte("report_refs")
	bucketReportTimes     = []byte("report_times")
	bucketPartsPerDay     = []byte("parts_per_day")
	bucketMonthRecipients = []byte("month_recipients")
	bucketReplies         = []byte("replies")

	bucketCodeRequests  = []byte("code_requests")
	bucketReplyPartsDay = []byte("reply_parts_per_day")

	bucketSubDays   = []byte("sub_days")
	bucketPartsDays = []byte("parts_days")
	bucketModemDays = []byte("modem_days")
)

// migration moves the database from schema-1 to schema.
type migration struct {
	schema  uint64
	name    string
	migrate func(tx *bolt.Tx) error
}

// migrations are applied in order, each at most once, in the Update run by
// Open. Append only; never edit a released entry.
var migrations = []migration{
	{schema: 1, name: "create buckets", migrate: createBucketsV1},
	{schema: 2, name: "queue age, delivery reports and usage", migrate: migrateV2},
	{schema: 3, name: "anti-abuse counters", migrate: migrateV3},
	{schema: 4, name: "witness replies", migrate: migrateV4},
	{schema: 5, name: "alert timelines", migrate: migrateV5},
	{schema: 6, name: "durable history of the period report", migrate: migrateV6},
	{schema: 7, name: "compact outbox records", migrate: migrateV7},
}

func createBucketsV1(tx *bolt.Tx) error {
	for _, name := range [][]byte{
		bucketSubscribers, bucketSuppressed, bucketAlerts, bucketAlertMessages,
		bucketOutbox, bucketQueue, bucketSending, bucketCounters, bucketAlertCounters, bucketSent,
		bucketInbound, bucketUnprocessed, bucketInbox, bucketParts, bucketSeen,
		bucketAudit, // also created by AppendAudit in files made before it
	} {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("create bucket %s: %w", name, err)
		}
	}
	return nil
}

// migrateV2 adds the indexes of schema 2 and fills them from the outbox, so
// a v1 file is not misread: its queued messages can expire, its sent ones
// match their delivery reports and count in the usage counters. It is the
// one full outbox scan, run once.
func migrateV2(tx *bolt.Tx) error {
	for _, name := range [][]byte{
		bucketQueueAge, bucketReportRefs, bucketReportTimes, bucketPartsPerDay, bucketMonthRecipients, bucketReplies,
	} {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("create bucket %s: %w", name, err)
		}
	}
	var msgs []Message
	if err := tx.Bucket(bucketOutbox).ForEach(func(k, v []byte) error {
		var m Message
		if err := decodeMessage(tx, nil, k, v, &m); err != nil {
			return err
		}
		if m.State == StateQueued || !m.SentAt.IsZero() {
			msgs = append(msgs, m)
		}
		return nil
	}); err != nil {
		return err
	}
	for _, m := range msgs {
		if m.State == StateQueued {
			if err := tx.Bucket(bucketQueueAge).Put(queueAgeKey(&m), nil); err != nil {
				return err
			}
			continue
		}
		if err := countSent(tx, &m); err != nil {
			return err
		}
		if err := indexReports(tx, &m); err != nil {
			return err
		}
	}
	return nil
}

// migrateV3 adds the per-number counters of code requests (abuse.go) and
// the reply parts each modem sent per day (the replies' share of
// daily_cap). The latter starts empty: only today's count matters.
func migrateV3(tx *bolt.Tx) error {
	for _, name := range [][]byte{bucketCodeRequests, bucketReplyPartsDay} {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("create bucket %s: %w", name, err)
		}
	}
	return nil
}

// migrate brings the schema up to date in the caller's transaction.
func migrate(tx *bolt.Tx) error {
	meta, err := tx.CreateBucketIfNotExists(bucketMeta)
	if err != nil {
		return fmt.Errorf("create bucket %s: %w", bucketMeta, err)
	}
	var current uint64
	if v := meta.Get(keySchema); v != nil {
		if len(v) != 8 {
			return fmt.Errorf("schema version: %d bytes: %w", len(v), ErrSchema)
		}
		current = binary.BigEndian.Uint64(v)
	}
	latest := migrations[len(migrations)-1].schema
	if current > latest {
		return fmt.Errorf("schema %d, this build knows up to %d: %w", current, latest, ErrSchema)
	}
	if current == latest {
		return nil
	}
	for _, m := range migrations {
		if m.schema <= current {
			continue
		}
		if err := m.migrate(tx); err != nil {
			return fmt.Errorf("migration %d (%s): %w", m.schema, m.name, err)
		}
		current = m.schema
	}
	return meta.Put(keySchema, u64(current))
}

// Store is Vigie's database. It is safe for concurrent use; bbolt serialises
// writers.
type Store struct {
	db      *liveDB
	keys    *keyring    // the suppression list's key, read at Open
	modeWas os.FileMode // see ModeFixed
	// scans counts the recipient scans (TargetScans): a counter, not state.
	scans atomic.Int64
	// begun holds the messages a send log has begun that the database
	// still has claimed ahead; withdrawing those a cancellation is taking
	// back, until its transaction ends (sendlog.go, markBegun).
	begunMu     sync.Mutex
	begun       map[uint64]struct{}
	withdrawing map[uint64]struct{}
}

// Option configures Open.
type Option func(*openOptions)

type openOptions struct {
	keyFile string
}

// WithKeyFile names the suppression list's key file (config [store]
// key_file); by default DefaultKeyFile beside the database.
func WithKeyFile(path string) Option {
	return func(o *openOptions) { o.keyFile = path }
}

// Open opens (creating it 0600 if needed) the database at path and applies
// pending migrations. An empty or truncated file is refused with an error
// wrapping ErrCorrupt, never replaced nor read past its end (filecheck.go);
// one readable by others is restricted to 0600 (ModeFixed). If another
// process holds the file, it fails after about a second with an error
// wrapping ErrLocked. It reads the suppression list's key file, creating it
// 0600 while no erased number needs it; otherwise its absence is an error
// wrapping ErrKeyMissing.
func Open(path string, opts ...Option) (*Store, error) {
	return open(path, false, opts...)
}

// open lets tests skip fsync where durability is not what they check.
func open(path string, noSync bool, opts ...Option) (*Store, error) {
	o := openOptions{keyFile: filepath.Join(filepath.Dir(path), DefaultKeyFile)}
	for _, opt := range opts {
		opt(&o)
	}
	bopts := boltOptions(noSync)
	if err := createFile(path, bopts); err != nil {
		if errors.Is(err, berrors.ErrTimeout) {
			return nil, fmt.Errorf("store: open %s: %w (%w)", path, ErrLocked, err)
		}
		return nil, fmt.Errorf("store: create %s: %w", path, err)
	}
	modeWas, err := checkFile(path)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	var db *bolt.DB
	err = guard(func() (err error) {
		db, err = openBolt(path, bopts)
		return err
	})
	if err != nil {
		if errors.Is(err, berrors.ErrTimeout) {
			return nil, fmt.Errorf("store: open %s: %w (%w)", path, ErrLocked, err)
		}
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	fills := bucketFills()
	if err := guard(func() error {
		return db.Update(func(tx *bolt.Tx) error {
			setFill(tx, fills) // the buckets a migration rewrites (migrateV7)
			return migrate(tx)
		})
	}); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("store: migrate %s: %w", path, err)
	}
	s := &Store{db: &liveDB{db: db, path: path, opts: bopts, fills: fills}, modeWas: modeWas}
	if err := s.prepareErasure(o.keyFile); err != nil {
		_ = s.db.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	// At start-up nothing else runs yet: the cheapest moment to give back
	// what a long history, purged since, left free (bounded growth).
	if _, _, err := s.CompactIfSparse(); err != nil {
		_ = s.db.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	// bbolt's freelist rebuild read every page through the mapping.
	s.db.mu.Lock()
	s.db.unmapCold()
	s.db.mu.Unlock()
	return s, nil
}

// boltOptions are the options every read-write open of the database uses.
// The freelist is not written by each commit (NoFreelistSync): it is a page
// rewritten, and synced, per transaction, one of the dozen an SMS costs an
// SD card. bbolt rebuilds it at open by walking the trees, which costs a
// read of the file (milliseconds for tens of megabytes; checkImage walks
// it first, see pagewalk.go, so a damaged page is refused rather than
// crashing bbolt's walk), and a crash loses nothing: a free page is one no
// tree reaches. The map freelist keeps allocation and release cheap
// whatever the number of free pages. An opener without NoFreelistSync (an
// older Vigie, bbolt's tools) writes the freelist back at its open.
func boltOptions(noSync bool) bolt.Options {
	return bolt.Options{Timeout: openTimeout, NoSync: noSync, NoFreelistSync: true, FreelistType: bolt.FreelistMapType}
}

// allocStep is how far ahead of its data bbolt grows the file once the
// file passes it (DB.AllocSize; below it the file is the power of two
// above the data). bbolt's default, 16 MiB, doubles the file up to 16 MiB:
// with 6,000 subscribers and 10,000 queued messages the file was twice
// what its pages held (419 B of file per queued message for 211 B used).
// Each growth costs a truncate and an fsync of the file, not its bytes:
// at 512 KiB a 1,000-recipient alert (about 200 KiB of new pages) grows it
// at most once, and an SMS sent, which reuses freed pages, never.
const allocStep = 512 << 10

// openBolt opens the bbolt file at path with opts and the store's
// allocation step (a DB field, not an option of bolt.Open).
func openBolt(path string, opts bolt.Options) (*bolt.DB, error) {
	db, err := bolt.Open(path, 0o600, &opts)
	if err != nil {
		return nil, err
	}
	db.AllocSize = allocStep
	return db, nil
}

// ModeFixed returns the permissions the database file had when Open found
// it readable by group or others and restricted it to 0600; 0 when Open
// left them alone. The caller says so in the journal.
func (s *Store) ModeFixed() os.FileMode { return s.modeWas }

// Close releases the file and its lock.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("store: close: %w", err)
	}
	return nil
}

// u64 encodes v big-endian.
func u64(v uint64) []byte {
	return binary.BigEndian.AppendUint64(nil, v)
}

// timeKey maps t to a uint64 whose order is time order, before 1970 included.
func timeKey(t time.Time) uint64 {
	return uint64(t.UnixNano()) ^ (1 << 63)
}

// getJSON decodes the value at key into v; false if the key is absent.
func getJSON(b *bolt.Bucket, key []byte, v any) (bool, error) {
	data := b.Get(key)
	if data == nil {
		return false, nil
	}
	return true, decode(key, data, v)
}

// decode decodes the JSON value stored at key into v.
func decode(key, data []byte, v any) error {
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("decode value of key %q: %w", key, err)
	}
	return nil
}

// putJSON encodes v as the value at key.
func putJSON(b *bolt.Bucket, key []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %T: %w", v, err)
	}
	return b.Put(key, data)
}
