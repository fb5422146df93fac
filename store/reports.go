package store

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// ReportWindow is how far apart a report's SCTS and the sending of the part
// it matches may be, either way; report index entries older than that are
// purged. Message references wrap every 256 SMS and restart when a modem
// reboots, so the reference alone names no message.
const ReportWindow = 48 * time.Hour

// Report is a delivery report (SMS-STATUS-REPORT) as decoded by the caller.
type Report struct {
	Modem     string    // the modem that received it
	Ref       int       // TP-MR of the part it reports on
	Recipient string    // as the SC wrote it: E.164, international without '+', or national
	Status    byte      // TP-ST
	SCTS      time.Time // when the SC took the SMS
	Discharge time.Time // when the SC delivered it, or gave up
}

// TP-ST classes (3GPP TS 23.040 §9.2.3.15): below reportPending the part was
// delivered, below reportFailed the SC still tries, otherwise it gave up.
const (
	reportPending = 0x20
	reportFailed  = 0x40
)

// tailDigits is how many trailing digits of a recipient go in a report index
// key: a national and an international form of one mobile number share them.
const tailDigits = 7

// ApplyReport matches a delivery report to the part of a sent message it is
// about and records it (SPEC §6): ApplyReports with one report.
func (s *Store) ApplyReport(r Report, now time.Time) (msg Message, matched bool, err error) {
	res, err := s.ApplyReports([]Report{r}, now)
	if err != nil {
		return Message{}, false, err
	}
	return res[0].Msg, res[0].Matched, nil
}

// ReportResult is what ApplyReports made of one report: Matched is false
// when nothing we sent fits; Msg is the message it is about, as recorded.
type ReportResult struct {
	Msg     Message
	Matched bool
}

// ApplyReports records delivery reports in one transaction, in order (a
// report sees what the ones before it recorded: two parts of one message),
// one result per report; all are recorded or, on error, none. A fan-out's
// reports read in one pass of the modem's storage then cost one commit,
// not one each: flash wear (issue 15). Each report is matched to the part
// of a sent message it is about (SPEC §6). Candidates share the modem, the
// reference and the recipient (compared on its national significant
// digits, see sameNumber), and were sent within ReportWindow of r.SCTS (now
// if zero); the closest in time among parts with no final report of
// messages still sent is chosen. TP-ST 0x00–0x1F marks the part delivered,
// and the message once all its parts are; 0x20–0x3F changes nothing; 0x40
// and above fails the message at once. A report whose only candidates are
// final (a duplicate, a message already failed, one read again after a
// modem loss before the modem deleted it) is absorbed: matched, no change.
func (s *Store) ApplyReports(reports []Report, now time.Time) ([]ReportResult, error) {
	out := make([]ReportResult, len(reports))
	if len(reports) == 0 {
		return out, nil
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		for i, r := range reports {
			msg, matched, err := applyReport(tx, r, now)
			if err != nil {
				return fmt.Errorf("delivery report from %s (ref %d): %w", r.Modem, r.Ref, err)
			}
			out[i] = ReportResult{Msg: msg, Matched: matched}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: %d delivery reports: %w", len(reports), err)
	}
	return out, nil
}

// applyReport matches and records one report in tx (ApplyReports).
func applyReport(tx *bolt.Tx, r Report, now time.Time) (Message, bool, error) {
	prefix, ok := reportPrefix(r.Modem, r.Ref, r.Recipient)
	if !ok {
		return Message{}, false, nil
	}
	at := r.SCTS
	if at.IsZero() {
		at = now
	}
	type candidate struct {
		m     Message
		part  int
		dist  time.Duration
		found bool
	}
	var live, final candidate
	c := tx.Bucket(bucketReportRefs).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		sent, id, part := reportKeySuffix(k)
		dist := sent.Sub(at).Abs()
		if dist > ReportWindow {
			continue
		}
		m, err := loadMessage(tx, id)
		if err != nil {
			return Message{}, false, err
		}
		if part >= len(m.Refs) || !sameNumber(m.To, r.Recipient) {
			continue
		}
		best := &final
		if m.State == StateSent && partStatus(&m, part) < 0 {
			best = &live
		}
		if !best.found || dist < best.dist {
			*best = candidate{m: m, part: part, dist: dist, found: true}
		}
	}
	switch {
	case live.found:
		msg, err := applyPartStatus(tx, live.m, live.part, r, now)
		return msg, err == nil, err
	case final.found:
		return final.m, true, nil
	}
	return Message{}, false, nil
}

// applyPartStatus records the final status of one part of sent message m.
func applyPartStatus(tx *bolt.Tx, m Message, part int, r Report, now time.Time) (Message, error) {
	if r.Status >= reportPending && r.Status < reportFailed {
		return m, nil
	}
	status := make([]int, len(m.Refs))
	for i := range status {
		status[i] = partStatus(&m, i)
	}
	status[part] = int(r.Status)
	setStatus := func(m *Message) { m.PartStatus = status }
	if r.Status >= reportFailed {
		return transition(tx, m.ID, StateFailed, now, func(m *Message) {
			setStatus(m)
			m.LastError = fmt.Sprintf("rapport de remise : échec (TP-ST 0x%02X)", r.Status)
		})
	}
	for _, st := range status {
		if st < 0 {
			prev := m
			setStatus(&m)
			m.UpdatedAt = now
			return m, putMessage(tx, &m, &prev)
		}
	}
	return transition(tx, m.ID, StateDelivered, now, func(m *Message) {
		setStatus(m)
		m.DeliveredAt = r.Discharge
		if m.DeliveredAt.IsZero() {
			m.DeliveredAt = now
		}
	})
}

// partStatus is the recorded TP-ST of part i of m; -1 if none (a message
// sent before schema 2 has no PartStatus).
func partStatus(m *Message, i int) int {
	if i < len(m.PartStatus) {
		return m.PartStatus[i]
	}
	return -1
}

// indexReports records, for each part of sent message m, the report index
// entry its delivery report will be matched by.
func indexReports(tx *bolt.Tx, m *Message) error {
	refs, times := tx.Bucket(bucketReportRefs), tx.Bucket(bucketReportTimes)
	for part, ref := range m.Refs {
		prefix, ok := reportPrefix(m.Modem, ref, m.To)
		if !ok || part > 0xFFFF {
			continue
		}
		suffix := binary.BigEndian.AppendUint64(u64(timeKey(m.SentAt)), m.ID)
		suffix = binary.BigEndian.AppendUint16(suffix, uint16(part))
		key := append(prefix, suffix...)
		if err := refs.Put(key, nil); err != nil {
			return err
		}
		if err := times.Put(suffix, key); err != nil {
			return err
		}
	}
	return nil
}

// purgeReports removes up to limit report index entries of parts sent
// before before.
func purgeReports(tx *bolt.Tx, before time.Time, limit int) error {
	refs, times := tx.Bucket(bucketReportRefs), tx.Bucket(bucketReportTimes)
	end := u64(timeKey(before))
	var stale [][2][]byte
	c := times.Cursor()
	for k, v := c.First(); k != nil && len(stale) < limit && bytes.Compare(k[:8], end) < 0; k, v = c.Next() {
		stale = append(stale, [2][]byte{bytes.Clone(k), bytes.Clone(v)})
	}
	for _, kv := range stale {
		if err := times.Delete(kv[0]); err != nil {
			return err
		}
		if err := refs.Delete(kv[1]); err != nil {
			return err
		}
	}
	return nil
}

// reportPrefix is the report index prefix of (modem, ref, recipient); false
// when they cannot be indexed.
func reportPrefix(modem string, ref int, recipient string) ([]byte, bool) {
	digits := digitsOf(recipient)
	if len(modem) > 0xFFFF || ref < 0 || ref > 0xFFFF || len(digits) < tailDigits {
		return nil, false
	}
	k := binary.BigEndian.AppendUint16(nil, uint16(len(modem)))
	k = append(k, modem...)
	k = binary.BigEndian.AppendUint16(k, uint16(ref))
	k = append(k, tailDigits)
	return append(k, digits[len(digits)-tailDigits:]...), true
}

// reportKeySuffix decodes the fixed-length end of a report_refs key.
func reportKeySuffix(k []byte) (sent time.Time, id uint64, part int) {
	s := k[len(k)-18:]
	sent = time.Unix(0, int64(binary.BigEndian.Uint64(s)^(1<<63)))
	return sent, binary.BigEndian.Uint64(s[8:]), int(binary.BigEndian.Uint16(s[16:]))
}

// digitsOf keeps the ASCII digits of s.
func digitsOf(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

// sameNumber reports whether reported, a recipient as written in a delivery
// report, is the number e164 we sent to. Formats: "+33612345678" and
// "0033612345678" are international and compared whole; otherwise leading
// zeros (the trunk prefix) are dropped and the rest must be either the whole
// international number without '+' or its national significant number, the
// E.164 number less a 1 to 3 digit country code. At least tailDigits
// digits must remain, so a match always shares its report index prefix.
func sameNumber(e164, reported string) bool {
	t, d := digitsOf(e164), digitsOf(reported)
	switch {
	case strings.HasPrefix(strings.TrimSpace(reported), "+"):
	case strings.HasPrefix(d, "00"):
		d = d[2:]
	default:
		d = strings.TrimLeft(d, "0")
		if cc := len(t) - len(d); cc >= 1 && cc <= 3 && strings.HasSuffix(t, d) {
			return len(d) >= tailDigits
		}
	}
	return len(d) >= tailDigits && d == t
}
