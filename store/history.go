package store

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Durable history (issue #14, point 4): the daily aggregates the period
// report reads, which Purge never touches. They hold no phone number: only
// zone and trade ids, modem names, days and counts.
//
// sub_days keys are <zone>\x00<trade>\x00<local day>: one series per zone
// and trade, day after day, so the latest entry of a series (its active
// count now) is one Seek and Prev away. The zone "" is the shop level: a
// subscriber counts once there whatever its number of zones, which is what
// the unfiltered totals need. Zone and trade ids are config slugs and never
// hold a NUL byte.

// subDayLen is the size of a sub_days value: joins, stops, erasures and the
// active count at the day's end, u32 each.
const subDayLen = 16

// subDay is one sub_days value.
type subDay struct {
	joins, stops, erasures, active uint32
}

func (d subDay) bytes() []byte {
	b := make([]byte, 0, subDayLen)
	for _, v := range []uint32{d.joins, d.stops, d.erasures, d.active} {
		b = binary.BigEndian.AppendUint32(b, v)
	}
	return b
}

func parseSubDay(v []byte) subDay {
	if len(v) != subDayLen {
		return subDay{}
	}
	return subDay{
		joins:    binary.BigEndian.Uint32(v[0:]),
		stops:    binary.BigEndian.Uint32(v[4:]),
		erasures: binary.BigEndian.Uint32(v[8:]),
		active:   binary.BigEndian.Uint32(v[12:]),
	}
}

// seriesPrefix is the sub_days prefix of a zone and trade's series.
func seriesPrefix(zone, trade string) []byte {
	p := append([]byte(zone), 0)
	p = append(p, trade...)
	return append(p, 0)
}

// subDelta is a change to one series on one day.
type subDelta struct {
	zone, trade            string
	joins, stops, erasures uint32
	active                 int
}

// applySubDelta adds d to its series on the local day of now: the day's
// entry is created with the series' latest active count if it has none.
// If the series already has a later day (the clock went back), that entry
// takes the change: the latest entry must stay the present count.
func applySubDelta(tx *bolt.Tx, d subDelta, now time.Time) error {
	b := tx.Bucket(bucketSubDays)
	prefix := seriesPrefix(d.zone, d.trade)
	key := append(bytes.Clone(prefix), dayKey(now)...)
	var cur subDay
	// The latest entry of the series: Seek past it, step back.
	c := b.Cursor()
	k, v := c.Seek(append(bytes.Clone(prefix), 0xff))
	if k == nil {
		k, v = c.Last()
	} else {
		k, v = c.Prev()
	}
	if k != nil && bytes.HasPrefix(k, prefix) {
		if bytes.Compare(k, key) >= 0 {
			key, cur = bytes.Clone(k), parseSubDay(v)
		} else {
			cur.active = parseSubDay(v).active
		}
	}
	cur.joins += d.joins
	cur.stops += d.stops
	cur.erasures += d.erasures
	if d.active < 0 && int(cur.active) < -d.active {
		return fmt.Errorf("active count of zone %q trade %q would go below zero", d.zone, d.trade)
	}
	cur.active = uint32(int(cur.active) + d.active)
	return b.Put(key, cur.bytes())
}

// tallySubscriber records in sub_days how a subscriber's active
// subscriptions went from was to is (nil: no record). A zone newly
// subscribed is a join there, a number that became active a join at the
// shop level; a number that stopped being active is a stop (an erasure if
// erased) under each zone and trade it had; a zone dropped or a trade
// changed while active only moves the active counts. Typically one or two
// keys are written.
func tallySubscriber(tx *bolt.Tx, was, is *Subscriber, erased bool, now time.Time) error {
	active := func(s *Subscriber) bool { return s != nil && s.Status == StatusActive }
	wasOn, isOn := active(was), active(is)
	var deltas []subDelta
	ended := func(zone, trade string) subDelta {
		d := subDelta{zone: zone, trade: trade, active: -1}
		if erased {
			d.erasures = 1
		} else {
			d.stops = 1
		}
		return d
	}
	switch {
	case !wasOn && isOn:
		deltas = append(deltas, subDelta{zone: "", trade: is.Trade, joins: 1, active: 1})
	case wasOn && !isOn:
		deltas = append(deltas, ended("", was.Trade))
	case wasOn && isOn && was.Trade != is.Trade:
		deltas = append(deltas, subDelta{trade: was.Trade, active: -1}, subDelta{trade: is.Trade, active: 1})
	}
	if wasOn {
		for _, z := range was.Zones {
			switch {
			case !isOn:
				deltas = append(deltas, ended(z, was.Trade))
			case !slices.Contains(is.Zones, z) || is.Trade != was.Trade:
				deltas = append(deltas, subDelta{zone: z, trade: was.Trade, active: -1})
			}
		}
	}
	if isOn {
		for _, z := range is.Zones {
			had := wasOn && slices.Contains(was.Zones, z)
			switch {
			case !had:
				deltas = append(deltas, subDelta{zone: z, trade: is.Trade, joins: 1, active: 1})
			case was.Trade != is.Trade:
				deltas = append(deltas, subDelta{zone: z, trade: is.Trade, active: 1})
			}
		}
	}
	for _, d := range deltas {
		if err := applySubDelta(tx, d, now); err != nil {
			return err
		}
	}
	return nil
}

// seedSubDays fills sub_days from the subscribers of a file made before
// it (migration 6): each active subscriber counts as active from the local
// day of its CreatedAt on, in its present zones and trade. No join is
// seeded: CreatedAt is when the number first wrote or was added, not when
// its present subscription began (it may have stopped and come back), and
// the stopped ones have lost their zones; so the history before the upgrade
// has active counts (a lower bound) but no joins nor stops.
func seedSubDays(tx *bolt.Tx) error {
	type start struct {
		day, zone, trade string
	}
	var starts []start
	if err := tx.Bucket(bucketSubscribers).ForEach(func(k, v []byte) error {
		var sub Subscriber
		if err := decode(k, v, &sub); err != nil {
			return err
		}
		if sub.Status != StatusActive {
			return nil
		}
		day := dayKey(sub.CreatedAt)
		starts = append(starts, start{day, "", sub.Trade})
		for _, z := range sub.Zones {
			starts = append(starts, start{day, z, sub.Trade})
		}
		return nil
	}); err != nil {
		return err
	}
	sort.Slice(starts, func(i, j int) bool {
		a, b := starts[i], starts[j]
		if a.zone != b.zone {
			return a.zone < b.zone
		}
		if a.trade != b.trade {
			return a.trade < b.trade
		}
		return a.day < b.day
	})
	b := tx.Bucket(bucketSubDays)
	var active uint32
	for i, s := range starts {
		if i == 0 || s.zone != starts[i-1].zone || s.trade != starts[i-1].trade {
			active = 0
		}
		active++
		key := append(seriesPrefix(s.zone, s.trade), s.day...)
		if err := b.Put(key, subDay{active: active}.bytes()); err != nil {
			return err
		}
	}
	return nil
}

// SubscriptionDay is one day of one zone and trade's subscriptions. Zone ""
// is the shop level: each subscriber once, whatever its zones.
type SubscriptionDay struct {
	Zone, Trade string
	Day         string // local day, YYYY-MM-DD
	Joins       int
	Stops       int
	Erasures    int
	// Active is the active count at the day's end; it holds until the
	// series' next day.
	Active int
}

// SubscriptionHistory returns every day of every series, by zone, trade
// and day: a few entries per day with changes, never purged.
func (s *Store) SubscriptionHistory() ([]SubscriptionDay, error) {
	var out []SubscriptionDay
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketSubDays).ForEach(func(k, v []byte) error {
			parts := bytes.SplitN(k, []byte{0}, 3)
			if len(parts) != 3 {
				return fmt.Errorf("sub_days key %q: %w", k, ErrCorrupt)
			}
			d := parseSubDay(v)
			out = append(out, SubscriptionDay{
				Zone: string(parts[0]), Trade: string(parts[1]), Day: string(parts[2]),
				Joins: int(d.joins), Stops: int(d.stops), Erasures: int(d.erasures), Active: int(d.active),
			})
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("store: subscription history: %w", err)
	}
	return out, nil
}

// countPartsDay adds m's parts to the durable copy of parts_per_day (same
// key): parts_per_day is the daily cap's working set, purged with the
// outbox it must agree with; parts_days is the history, one key per modem
// and day. The bucket is absent while migrateV2 counts a v1 file.
func countPartsDay(tx *bolt.Tx, day []byte, parts int) error {
	if b := tx.Bucket(bucketPartsDays); b != nil {
		return addCounter(b, day, parts)
	}
	return nil
}

// ModemTime is how long a modem was observed and, of that, ready (able to
// send) since the last accounting.
type ModemTime struct {
	Modem        string
	Up, Observed time.Duration
}

// AddModemTime adds each modem's times to its local day of now, in one
// transaction: one key per modem (modem_days/<day><modem> → up and
// observed milliseconds, u64 each).
func (s *Store) AddModemTime(times []ModemTime, now time.Time) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketModemDays)
		for _, t := range times {
			if t.Up < 0 || t.Observed < t.Up {
				return fmt.Errorf("modem %s: up %v of %v observed: %w", t.Modem, t.Up, t.Observed, ErrInvalid)
			}
			key := append([]byte(dayKey(now)), t.Modem...)
			var up, seen uint64
			if v := b.Get(key); len(v) == 16 {
				up, seen = binary.BigEndian.Uint64(v), binary.BigEndian.Uint64(v[8:])
			}
			up += uint64(t.Up.Milliseconds())
			seen += uint64(t.Observed.Milliseconds())
			if err := b.Put(key, binary.BigEndian.AppendUint64(u64(up), seen)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: add modem time: %w", err)
	}
	return nil
}

// ModemDay is one modem's day: the parts it sent and how long it was
// ready of how long it was observed.
type ModemDay struct {
	Modem        string
	Day          string // local day, YYYY-MM-DD
	Parts        int
	Up, Observed time.Duration
}

// ModemHistory returns the modem days in [from, to) (YYYY-MM-DD), by day
// then modem, from the never-purged parts_days and modem_days.
func (s *Store) ModemHistory(from, to string) ([]ModemDay, error) {
	days := map[string]*ModemDay{}
	var keys []string
	get := func(k []byte) *ModemDay {
		if d, ok := days[string(k)]; ok {
			return d
		}
		d := &ModemDay{Day: string(k[:10]), Modem: string(k[10:])}
		days[string(k)] = d
		keys = append(keys, string(k))
		return d
	}
	err := s.db.View(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketPartsDays, bucketModemDays} {
			c := tx.Bucket(name).Cursor()
			for k, v := c.Seek([]byte(from)); k != nil && len(k) >= 10 && string(k[:10]) < to; k, v = c.Next() {
				d := get(k)
				if bytes.Equal(name, bucketPartsDays) {
					d.Parts = int(binary.BigEndian.Uint64(v))
					continue
				}
				if len(v) == 16 {
					d.Up = time.Duration(binary.BigEndian.Uint64(v)) * time.Millisecond
					d.Observed = time.Duration(binary.BigEndian.Uint64(v[8:])) * time.Millisecond
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: modem history: %w", err)
	}
	slices.Sort(keys)
	out := make([]ModemDay, 0, len(keys))
	for _, k := range keys {
		out = append(out, *days[k])
	}
	return out, nil
}

// migrateV6 creates the durable history of the period report and seeds
// the active counts from the subscribers (seedSubDays).
// parts_days starts as a copy of what parts_per_day still holds (the days
// retention kept); modem_days starts empty: nobody measured availability
// before.
func migrateV6(tx *bolt.Tx) error {
	for _, name := range [][]byte{bucketSubDays, bucketPartsDays, bucketModemDays} {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("create bucket %s: %w", name, err)
		}
	}
	days := tx.Bucket(bucketPartsDays)
	if err := tx.Bucket(bucketPartsPerDay).ForEach(func(k, v []byte) error {
		return days.Put(bytes.Clone(k), bytes.Clone(v))
	}); err != nil {
		return err
	}
	return seedSubDays(tx)
}
