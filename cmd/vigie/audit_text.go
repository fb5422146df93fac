package main

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"vigie/gateway/apitype"
)

// The audit log in French sentences: who, when, what — « 03/12 14:05 —
// dupont a envoyé l'alerte 12 à Mâcon (40 commerçants) ». The record's
// details (route, request, answer, hashes) are left to --json.

// auditFields reads a record's Result summary ("id=4 recipients=12
// zones=[1] category=\"vol\"") into its values, quotes removed.
func auditFields(result string) map[string]string {
	fields := map[string]string{}
	for rest := strings.TrimSpace(result); rest != ""; rest = strings.TrimSpace(rest) {
		key, after, ok := strings.Cut(rest, "=")
		if !ok || strings.ContainsAny(key, " \"") {
			break
		}
		value := after
		if strings.HasPrefix(after, `"`) {
			q, err := strconv.QuotedPrefix(after)
			if err != nil {
				break
			}
			value, _ = strconv.Unquote(q)
			rest = after[len(q):]
		} else {
			value, rest, _ = strings.Cut(after, " ")
		}
		fields[key] = value
	}
	return fields
}

// auditRequest reads a record's Request summary as JSON; nil when it is
// not (cut short, or not JSON).
func auditRequest(request string) map[string]any {
	var m map[string]any
	if json.Unmarshal([]byte(request), &m) != nil {
		return nil
	}
	return m
}

// strings of a JSON array in a request; nil if absent.
func requestStrings(req map[string]any, key string) []string {
	a, _ := req[key].([]any)
	var out []string
	for _, v := range a {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// auditTarget names zones (by name, when known) for a sentence: « à
// Mâcon », « à Mâcon et Charnay », « à tous les abonnés ».
func auditZones(ids []string, all bool, names map[string]string) string {
	if all {
		return "tous les abonnés"
	}
	named := make([]string, len(ids))
	for i, id := range ids {
		named[i] = id
		if n := names[id]; n != "" {
			named[i] = n
		}
	}
	if len(named) < 2 {
		return strings.Join(named, "")
	}
	return strings.Join(named[:len(named)-1], ", ") + " et " + named[len(named)-1]
}

// number is a count from a Result field; ok false when absent.
func number(fields map[string]string, key string) (int, bool) {
	n, err := strconv.Atoi(fields[key])
	return n, err == nil
}

// auditSentence says one record in French, without its date.
func auditSentence(r apitype.AuditRecord, zoneNames map[string]string) string {
	who := inert(r.User)
	target := inert(r.Target)
	res := auditFields(r.Result)
	req := auditRequest(r.Request)
	recipients := func() string {
		if n, ok := number(res, "recipients"); ok {
			return " (" + count(n, "commerçant", "commerçants") + ")"
		}
		return ""
	}
	switch r.Action {
	case "POST /v1/alerts":
		all, _ := req["all"].(bool)
		s := who + " a envoyé l'alerte " + inert(res["id"])
		if zones := requestStrings(req, "zones"); len(zones) > 0 || all {
			s += " à " + inert(auditZones(zones, all, zoneNames))
		}
		if trades := requestStrings(req, "trades"); len(trades) > 0 {
			s += ", métiers " + inert(strings.Join(trades, ", "))
		}
		return s + recipients()
	case "POST /v1/alerts/{id}/followup":
		return who + " a envoyé la suite " + inert(res["id"]) + " de l'alerte " + target + recipients()
	case "POST /v1/alerts/{id}/cancel":
		if n, ok := number(res, "cancelled"); ok && n == 0 {
			return who + " a voulu annuler l'alerte " + target + " : rien à annuler"
		} else if ok {
			return who + " a annulé l'alerte " + target + " (" + count(n, "SMS annulé", "SMS annulés") + ")"
		}
		return who + " a annulé l'alerte " + target
	case "POST /v1/alerts/test":
		s := who + " a envoyé un SMS de test"
		if to, _ := req["to"].(string); to != "" {
			s += " au " + inert(to)
		}
		return s
	case "POST /v1/inbox/{id}/read":
		return who + " a lu le message " + target
	case "POST /v1/subscribers":
		p, _ := req["phone"].(string)
		s := who + " a inscrit " + inert(p)
		if zones := requestStrings(req, "zones"); len(zones) > 0 {
			s += " à " + inert(auditZones(zones, false, zoneNames))
		}
		return s
	case "POST /v1/subscribers/import":
		return who + " a importé des abonnés"
	case "POST /v1/subscribers/{phone}/approve":
		return who + " a validé l'inscription du " + target
	case "POST /v1/subscribers/{phone}/remove":
		if erase, _ := req["erase"].(bool); erase {
			return who + " a désinscrit le " + target + " et effacé ses données"
		}
		return who + " a désinscrit le " + target
	case "SMS subscribed":
		return "le " + target + " s'est inscrit par SMS"
	case "SMS subscribe-confirm":
		return "le " + target + " a demandé son inscription par SMS (code de confirmation envoyé)"
	case "SMS subscribe-pending":
		return "le " + target + " a demandé son inscription par SMS (à valider : vigie subscribers approve)"
	case "SMS stopped":
		return "le " + target + " s'est désinscrit par SMS (STOP)"
	}
	// A change this CLI does not know yet: its French label.
	if strings.HasPrefix(r.Action, "SMS ") {
		return "le " + target + " : " + inert(r.Label)
	}
	s := who + " : " + inert(r.Label)
	if target != "" {
		s += " " + target
	}
	return s
}

// auditWhen dates a record for its sentence: the year only when it is not
// this one.
func auditWhen(t, now time.Time) string {
	t = t.Local()
	if t.Year() != now.Local().Year() {
		return t.Format("02/01/2006 15:04")
	}
	return t.Format("02/01 15:04")
}
