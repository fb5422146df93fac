package store

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// A send log is one sender's account of the sends it began and the SMS
// that left since its last commit, so that several SMS share one commit
// (issue #15: flash wear) while a killed process still knows, at the next
// start, which message was at the modem: the one begun and not sent is sent
// again marked uncertain, the ones sent are recorded, the ones claimed
// ahead and never begun go back to the queue unmarked.
//
// It is written with pwrite and never synced. The page cache outlives a
// killed process but not a power cut, so a log is trusted only in the boot
// that wrote it (its header carries the kernel's boot id); after a power
// cut, or with no boot id to compare, every message its sender held is sent
// again marked uncertain, which is what the database alone says. Writing a
// slot of a page already dirty costs the disk nothing more: the log costs a
// page written back now and then, not a page per SMS.
//
// Layout: 64-byte slots; slot 0 the header (magic, generation, boot id),
// then the records of that generation, each with its CRC. A commit starts
// a new generation holding only the records it did not settle, so a
// reader stops at the first slot of another generation.
const (
	sendLogMagic   = "VGSL"
	sendLogSlot    = 64
	sendLogMaxRefs = 24 // message references a record holds (SMS parts)
	sendLogPrefix  = ".send-"
)

// sendRecordKind says what a record tells of its message.
type sendRecordKind byte

const (
	recordBegun sendRecordKind = 1 // its first PDU may be out
	recordSent  sendRecordKind = 2 // the modem accepted every part
)

// sendRecord is one slot of a send log.
type sendRecord struct {
	kind  sendRecordKind
	id    uint64
	claim int64 // UpdatedAt of the claim (UnixNano): the claim it is about
	at    int64 // sent at (UnixNano), recordSent only
	refs  []int
}

// SendLog is a sender's send log (see the top of this file). One goroutine
// writes it at a time in practice; the mutex lets the commit that settles
// records run beside the send that adds one.
type SendLog struct {
	st   *Store
	path string

	mu   sync.Mutex
	f    sendLogFile
	boot string
	gen  uint64       // the generation the file's header has
	live []sendRecord // this generation's records, in slot order
	buf  []byte
	// broken is the failed rewrite that left the file without a header
	// to trust (nil: none); the log takes no more records.
	broken error
}

// sendLogFile is what a send log needs of its file (an *os.File; a test
// puts in one that fails).
type sendLogFile interface {
	io.WriterAt
	Truncate(size int64) error
	Sync() error
	Close() error
}

// ErrSendLogFull: a message has more parts than a record holds; its send
// must be begun in the database instead.
var ErrSendLogFull = errors.New("send log: too many parts for a record")

// ErrSendLogBroken: a rewrite of the send log failed, and the file was
// left without a header to trust (a restart then sends again, marked
// uncertain, every message its sender held): it takes no more records,
// and each send is begun and recorded by a commit.
var ErrSendLogBroken = errors.New("send log broken by a failed write")

// ErrWithdrawn: the message whose beginning was to be recorded is being
// taken back (its alert cancelled); its send must be begun in the
// database instead, which says whether it is withdrawn.
var ErrWithdrawn = errors.New("send log: message being withdrawn")

// sendLogPath is modem's send log beside the database at dbPath; the name
// is hex-encoded so that any modem name makes a file name.
func sendLogPath(dbPath, modem string) string {
	return dbPath + sendLogPrefix + hex.EncodeToString([]byte(modem))
}

// OpenSendLog opens modem's send log, empty. RecoverSending, run before any
// sender starts, has applied what a previous run left in it.
func (s *Store) OpenSendLog(modem string) (*SendLog, error) {
	path := sendLogPath(s.db.path, modem)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("store: open send log of %s: %w", modem, err)
	}
	l := &SendLog{st: s, path: path, f: f, boot: readBootID()}
	if hdr, ok := readSendLogHeader(f); ok {
		l.gen = hdr.gen // generations only go up, whatever slots are left
	}
	l.mu.Lock()
	err = l.rewriteLocked(nil)
	l.mu.Unlock()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("store: open send log of %s: %w", modem, err)
	}
	return l, nil
}

// Close closes the log; its file stays for RecoverSending.
func (l *SendLog) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}

// Begun records that m's send begins: from now on a PDU of it may be out.
// The database still has it claimed ahead; a cancellation leaves it alone
// until a commit settles it.
func (l *SendLog) Begun(m Message) error {
	return l.append(sendRecord{kind: recordBegun, id: m.ID, claim: m.UpdatedAt.UnixNano()})
}

// Sent records that every part of m went out, with its references.
func (l *SendLog) Sent(m Message, refs []int, at time.Time) error {
	return l.append(sendRecord{kind: recordSent, id: m.ID, claim: m.UpdatedAt.UnixNano(), at: at.UnixNano(), refs: refs})
}

func (l *SendLog) append(r sendRecord) error {
	if len(r.refs) > sendLogMaxRefs {
		return ErrSendLogFull
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return fmt.Errorf("send log %s: closed", filepath.Base(l.path))
	}
	if l.broken != nil {
		// Its header is gone: a record written now would never be read.
		return fmt.Errorf("send log %s: %w: %w", filepath.Base(l.path), ErrSendLogBroken, l.broken)
	}
	// Marked before it is written: a cancellation deciding now either
	// sees it begun, or has it withdrawing and the record is refused.
	added, err := l.st.markBegun(r.id, r.kind == recordBegun)
	if err != nil {
		return fmt.Errorf("send log %s: %w", filepath.Base(l.path), err)
	}
	slot := encodeSendRecord(l.buf[:0], l.gen, r)
	off := int64(sendLogSlot * (1 + len(l.live)))
	if _, err := l.f.WriteAt(slot, off); err != nil {
		if added {
			l.st.unmarkBegun(r.id)
		}
		return fmt.Errorf("send log %s: %w", filepath.Base(l.path), err)
	}
	l.buf = slot
	l.live = append(l.live, r)
	return nil
}

// Settled drops the records of the messages a commit recorded (settled
// reports true for their IDs): a new generation starts with the others.
// Closed or broken, the log is not rewritten, but the messages settled
// are no longer held as begun all the same: a cancellation may take them.
func (l *SendLog) Settled(settled func(id uint64) bool) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	var keep []sendRecord
	for _, r := range l.live {
		if settled(r.id) {
			l.st.unmarkBegun(r.id)
		} else {
			keep = append(keep, r)
		}
	}
	if l.f == nil || l.broken != nil {
		l.live = keep
		return nil
	}
	err := l.rewriteLocked(keep)
	l.live = keep // broken or not, the others are settled
	return err
}

// Broken reports whether a failed rewrite left the log unusable
// (ErrSendLogBroken): its sender records each send by a commit.
func (l *SendLog) Broken() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.broken != nil
}

// rewriteLocked starts a new generation holding keep. The generation is
// the file's only once written whole. A failed write may have left part
// of the new generation over the old one (a new header, records missing:
// a message begun would read as never begun), so the file is emptied, or
// its header zeroed, and the log marked broken: a reader then trusts none
// of it, and nothing more is written to it.
func (l *SendLog) rewriteLocked(keep []sendRecord) error {
	gen := l.gen + 1
	out := encodeSendLogHeader(make([]byte, 0, sendLogSlot*(1+len(keep))), gen, l.boot)
	for _, r := range keep {
		out = encodeSendRecord(out, gen, r)
	}
	if _, err := l.f.WriteAt(out, 0); err != nil {
		err = fmt.Errorf("write: %w", err)
		if terr := l.f.Truncate(0); terr != nil {
			_, zerr := l.f.WriteAt(make([]byte, sendLogSlot), 0)
			err = errors.Join(err, fmt.Errorf("empty it: %w", terr))
			if zerr != nil {
				err = errors.Join(err, fmt.Errorf("zero its header: %w", zerr))
			}
		}
		l.broken = err
		return fmt.Errorf("send log %s: %w: %w", filepath.Base(l.path), ErrSendLogBroken, err)
	}
	l.gen, l.live = gen, keep
	return nil
}

type sendLogHeader struct {
	gen  uint64
	boot string
}

func encodeSendLogHeader(b []byte, gen uint64, boot string) []byte {
	start := len(b)
	b = append(b, sendLogMagic...)
	b = binary.BigEndian.AppendUint64(b, gen)
	var id [40]byte
	copy(id[:], boot)
	b = append(b, id[:]...)
	b = append(b, make([]byte, sendLogSlot-4-(len(b)-start))...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b[start:]))
}

func encodeSendRecord(b []byte, gen uint64, r sendRecord) []byte {
	start := len(b)
	b = binary.BigEndian.AppendUint64(b, gen)
	b = append(b, byte(r.kind), byte(len(r.refs)), 0, 0)
	b = binary.BigEndian.AppendUint64(b, r.id)
	b = binary.BigEndian.AppendUint64(b, uint64(r.claim))
	b = binary.BigEndian.AppendUint64(b, uint64(r.at))
	var refs [sendLogMaxRefs]byte
	for i, ref := range r.refs {
		refs[i] = byte(ref)
	}
	b = append(b, refs[:]...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b[start:]))
}

// validSlot reports whether slot (sendLogSlot bytes) carries its CRC.
func validSlot(slot []byte) bool {
	n := sendLogSlot - 4
	return crc32.ChecksumIEEE(slot[:n]) == binary.BigEndian.Uint32(slot[n:])
}

func decodeSendLogHeader(slot []byte) (sendLogHeader, bool) {
	if len(slot) < sendLogSlot || !validSlot(slot) || string(slot[:4]) != sendLogMagic {
		return sendLogHeader{}, false
	}
	boot := string(bytes.TrimRight(slot[12:52], "\x00"))
	return sendLogHeader{gen: binary.BigEndian.Uint64(slot[4:12]), boot: boot}, true
}

func decodeSendRecord(slot []byte, gen uint64) (sendRecord, bool) {
	if len(slot) < sendLogSlot || !validSlot(slot) || binary.BigEndian.Uint64(slot) != gen {
		return sendRecord{}, false
	}
	r := sendRecord{
		kind:  sendRecordKind(slot[8]),
		id:    binary.BigEndian.Uint64(slot[12:20]),
		claim: int64(binary.BigEndian.Uint64(slot[20:28])),
		at:    int64(binary.BigEndian.Uint64(slot[28:36])),
	}
	n := int(slot[9])
	if (r.kind != recordBegun && r.kind != recordSent) || n > sendLogMaxRefs || r.id == 0 {
		return sendRecord{}, false
	}
	for _, ref := range slot[36 : 36+n] {
		r.refs = append(r.refs, int(ref))
	}
	return r, true
}

func readSendLogHeader(f io.ReaderAt) (sendLogHeader, bool) {
	slot := make([]byte, sendLogSlot)
	if _, err := f.ReadAt(slot, 0); err != nil {
		return sendLogHeader{}, false
	}
	return decodeSendLogHeader(slot)
}

// parseSendLog reads a send log's content: its boot id and the last record
// of each message in its current generation. ok is false when the header
// is unreadable: nothing in it can be trusted.
func parseSendLog(data []byte) (boot string, records map[uint64]sendRecord, ok bool) {
	hdr, ok := decodeSendLogHeader(data)
	if !ok {
		return "", nil, false
	}
	records = make(map[uint64]sendRecord)
	for off := sendLogSlot; off+sendLogSlot <= len(data); off += sendLogSlot {
		r, ok := decodeSendRecord(data[off:off+sendLogSlot], hdr.gen)
		if !ok {
			break
		}
		records[r.id] = r // slots are in time order: the last one tells
	}
	return hdr.boot, records, true
}

// leftSendLogs is what the send logs beside the database say: for each
// modem whose log was written in this boot, the last record of each
// message. The paths are returned for removal once applied.
func (s *Store) leftSendLogs() (trusted map[string]map[uint64]sendRecord, paths []string, err error) {
	paths, err = filepath.Glob(globEscape(s.db.path) + sendLogPrefix + "*")
	if err != nil {
		return nil, nil, fmt.Errorf("list send logs: %w", err)
	}
	boot := readBootID()
	trusted = make(map[string]map[uint64]sendRecord)
	for _, p := range paths {
		name, err := hex.DecodeString(strings.TrimPrefix(p, s.db.path+sendLogPrefix))
		if err != nil {
			continue // not one of ours
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, nil, fmt.Errorf("read send log %s: %w", filepath.Base(p), err)
		}
		logBoot, records, ok := parseSendLog(data)
		if ok && boot != "" && logBoot == boot {
			trusted[string(name)] = records
		}
	}
	return trusted, paths, nil
}

// globEscape escapes the pattern characters of a literal path.
func globEscape(p string) string {
	r := strings.NewReplacer(`*`, `\*`, `?`, `\?`, `[`, `\[`, `\`, `\\`)
	return r.Replace(p)
}

// readBootID is the kernel's id of this boot, "" where there is none to
// read (a log is then never trusted).
func readBootID() string {
	b, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// markBegun and unmarkBegun keep the set of messages a send log holds as
// begun (or sent) that the database still has claimed ahead: a
// cancellation must not take them back.
//
// A cancellation decides in its transaction and commits later; a send
// begun in between would go out while the commit cancels it (MaySend,
// reading before the commit, still sees it claimed). So deciding and
// beginning exclude each other on begunMu: the cancellation marks what it
// takes back as withdrawing (withdraw) until its transaction has ended
// (endWithdraw), and a Begun record of a message withdrawing is refused:
// its sender then begins it by a commit, which waits for the
// cancellation's and finds it withdrawn.
//
// Lock order: begunMu is the innermost lock. It is taken under SendLog.mu
// (append, Settled) and inside a cancellation's write transaction, and
// held only for a map access: never across I/O, never while taking
// SendLog.mu or starting a transaction. So neither a cancellation's commit
// nor a send log's write waits for the other.
//
// markBegun reports whether id was added (false: already held). With
// begin, a message withdrawing is refused with ErrWithdrawn.
func (s *Store) markBegun(id uint64, begin bool) (bool, error) {
	s.begunMu.Lock()
	defer s.begunMu.Unlock()
	if _, ok := s.withdrawing[id]; ok && begin {
		return false, fmt.Errorf("message %d: %w", id, ErrWithdrawn)
	}
	if _, ok := s.begun[id]; ok {
		return false, nil
	}
	if s.begun == nil {
		s.begun = make(map[uint64]struct{})
	}
	s.begun[id] = struct{}{}
	return true, nil
}

func (s *Store) unmarkBegun(id uint64) {
	s.begunMu.Lock()
	defer s.begunMu.Unlock()
	delete(s.begun, id)
}

// withdraw marks id, claimed ahead, as being taken back by the
// transaction running: false if a send log holds it as begun (it may be
// out: it is left to be recorded).
func (s *Store) withdraw(id uint64) bool {
	s.begunMu.Lock()
	defer s.begunMu.Unlock()
	if _, ok := s.begun[id]; ok {
		return false
	}
	if s.withdrawing == nil {
		s.withdrawing = make(map[uint64]struct{})
	}
	s.withdrawing[id] = struct{}{}
	return true
}

// endWithdraw ends withdraw's marks once their transaction has ended,
// committed or not.
func (s *Store) endWithdraw(ids []uint64) {
	s.begunMu.Lock()
	defer s.begunMu.Unlock()
	for _, id := range ids {
		delete(s.withdrawing, id)
	}
}

func (s *Store) isBegun(id uint64) bool {
	s.begunMu.Lock()
	defer s.begunMu.Unlock()
	_, ok := s.begun[id]
	return ok
}

// MaySend says whether m, claimed ahead and about to be sent with its
// beginning in a send log, is still to be sent: the stored message is
// still this claim (sending, still claimed ahead, and UpdatedAt the
// claim's: a take-back then a new claim of the same ID is another claim,
// not this one), to the same number (an erasure blanks it), and, unless
// it ignores suppression, that number did not send STOP since. A read: no
// commit per SMS.
func (s *Store) MaySend(m Message) (bool, error) {
	ok := false
	err := s.db.View(func(tx *bolt.Tx) error {
		cur, err := loadMessage(tx, m.ID)
		if errors.Is(err, ErrNotFound) {
			return nil // gone: not to be sent
		}
		if err != nil {
			return err
		}
		ok = cur.State == StateSending && cur.Ahead &&
			cur.UpdatedAt.Equal(m.UpdatedAt) &&
			cur.To == m.To && cur.To != ErasedPhone &&
			(cur.IgnoreSuppression || !isSuppressed(tx, cur.To))
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("store: may message %d be sent: %w", m.ID, err)
	}
	return ok, nil
}

// SendLogMaxRefs is how many parts a message may have for a send log to
// hold its beginning.
const SendLogMaxRefs = sendLogMaxRefs
