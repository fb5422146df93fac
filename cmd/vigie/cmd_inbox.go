package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"vigie/gateway/apitype"
)

func newInboxCommand(g *globalOptions) *cobra.Command {
	var list inboxListOptions
	cmd := &cobra.Command{
		Use:     "inbox",
		Aliases: []string{"messages"},
		Short:   "Messages des commerçants (hors mots-clés) et demandes d'inscription à valider",
		Long: "Liste les messages non lus (--all : tous). Les réponses des commerçants à une alerte sont\n" +
			"regroupées sous elle (« Réponses à l'alerte n° 12 du … »).",
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runInboxList(cmd.Context(), list, g)
		},
	}
	list.addFlags(cmd)
	cmd.AddCommand(newInboxListCommand(g), newInboxShowCommand(g), newInboxReadCommand(g))
	return cmd
}

type inboxListOptions struct {
	all  bool
	json bool
}

func (o *inboxListOptions) addFlags(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&o.all, "all", false, "aussi les messages déjà lus (après les non lus)")
	cmd.Flags().BoolVar(&o.json, "json", false, "sortie JSON")
}

func newInboxListCommand(g *globalOptions) *cobra.Command {
	var opts inboxListOptions
	cmd := &cobra.Command{
		Use:   "list",
		Short: "Lister les messages non lus (--all : tous)",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runInboxList(cmd.Context(), opts, g)
		},
	}
	opts.addFlags(cmd)
	return cmd
}

// inboxOrder puts unread messages first, each group newest first as the
// daemon sends them; without all, read ones are left out.
func inboxOrder(ms []apitype.InboxMessage, all bool) []apitype.InboxMessage {
	out := make([]apitype.InboxMessage, 0, len(ms))
	for _, m := range ms {
		if !m.Read {
			out = append(out, m)
		}
	}
	if all {
		for _, m := range ms {
			if m.Read {
				out = append(out, m)
			}
		}
	}
	return out
}

func runInboxList(ctx context.Context, opts inboxListOptions, g *globalOptions) error {
	ms, err := g.client().Inbox(ctx)
	if err != nil {
		return err
	}
	ms = inboxOrder(ms, opts.all)
	if opts.json {
		return printJSON(g.stdout, ms)
	}
	printInbox(g.stdout, ms, opts.all)
	return nil
}

// outcomeFrench says what an inbox entry is.
func outcomeFrench(outcome string) string {
	switch outcome {
	case apitype.OutcomeInbox:
		return "message"
	case apitype.OutcomeSubscribePending:
		return "inscription à valider"
	}
	return outcome
}

func printInbox(w io.Writer, ms []apitype.InboxMessage, all bool) {
	if len(ms) == 0 {
		if all {
			fmt.Fprintln(w, "Boîte de réception vide.")
		} else {
			fmt.Fprintln(w, "Aucun message non lu (--all pour tout voir).")
		}
		return
	}
	unread := slices.IndexFunc(ms, func(m apitype.InboxMessage) bool { return m.Read })
	if unread < 0 {
		unread = len(ms)
	}
	fmt.Fprintf(w, "%s\n", count(unread, "message non lu", "messages non lus"))
	// Witness replies are grouped under their alert, the alerts in the
	// order of their first message; the others are listed as they come.
	var alerts []uint64
	replies := make(map[uint64][]apitype.InboxMessage)
	for _, m := range ms {
		if m.AlertID == 0 {
			printInboxLine(w, m)
			continue
		}
		if _, ok := replies[m.AlertID]; !ok {
			alerts = append(alerts, m.AlertID)
		}
		replies[m.AlertID] = append(replies[m.AlertID], m)
	}
	for _, id := range alerts {
		group := replies[id]
		fmt.Fprintf(w, "Réponses à l'alerte n° %d du %s :\n", id, group[0].AlertCreatedAt.Local().Format("02/01/2006 15:04"))
		for _, m := range group {
			printInboxLine(w, m)
		}
	}
	fmt.Fprintln(w, "Lire un message : vigie inbox show ID ; le marquer lu : vigie inbox read ID")
}

func printInboxLine(w io.Writer, m apitype.InboxMessage) {
	mark := "*"
	if m.Read {
		mark = " "
	}
	text := oneLine(m.Text, 50)
	if note := inboxNote(m); note != "" {
		text = "[" + note + "] " + text
	}
	outcome := outcomeFrench(m.Outcome)
	if m.AlertID != 0 {
		outcome = "réponse"
	}
	fmt.Fprintf(w, "%s %4d  %s  %-14s %-22s %s\n", mark, m.ID, m.ReceivedAt.Local().Format("02/01 15:04"),
		inert(m.From), outcome, text)
}

// senderFrench names a sender that is not a phone (apitype.Sender…).
func senderFrench(kind string) string {
	switch kind {
	case "":
		return ""
	case apitype.SenderAlphanumeric:
		return "expéditeur alphanumérique"
	case apitype.SenderShortCode:
		return "numéro court"
	case apitype.SenderInvalid:
		return "numéro non valide"
	}
	return "expéditeur " + kind
}

// incompleteFrench says which parts of a long SMS never came:
// "incomplet : parties 2 et 3 manquantes (sur 4)".
func incompleteFrench(missing []int, parts int) string {
	if len(missing) == 0 {
		return ""
	}
	nums := make([]string, len(missing))
	for i, n := range missing {
		nums[i] = strconv.Itoa(n)
	}
	list := nums[0]
	if len(nums) > 1 {
		list = strings.Join(nums[:len(nums)-1], ", ") + " et " + nums[len(nums)-1]
	}
	s := "incomplet : partie " + list + " manquante"
	if len(nums) > 1 {
		s = "incomplet : parties " + list + " manquantes"
	}
	if parts > 0 {
		s += fmt.Sprintf(" (sur %d)", parts)
	}
	return s
}

// inboxNote marks an entry the operator must read with care: a sender
// that is not a phone, an SMS with parts missing.
func inboxNote(m apitype.InboxMessage) string {
	var notes []string
	for _, n := range []string{senderFrench(m.FromKind), incompleteFrench(m.Missing, m.Parts)} {
		if n != "" {
			notes = append(notes, n)
		}
	}
	return strings.Join(notes, " ; ")
}

// oneLine flattens an outside text to one inert line of at most n
// characters.
func oneLine(text string, n int) string {
	s := inert(strings.Join(strings.Fields(text), " "))
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// inboxID reads an inbox message id argument.
func inboxID(arg string) (uint64, error) {
	id, err := strconv.ParseUint(arg, 10, 64)
	if err != nil {
		return 0, usageError{fmt.Errorf("identifiant de message invalide : %q", arg)}
	}
	return id, nil
}

func printInboxMessage(w io.Writer, m apitype.InboxMessage) {
	fmt.Fprintf(w, "Message %d de %s, reçu le %s (%s)\n", m.ID, inert(m.From), m.ReceivedAt.Local().Format("02/01/2006 15:04:05"), outcomeFrench(m.Outcome))
	if m.Read {
		fmt.Fprintf(w, "Lu le %s\n", m.ReadAt.Local().Format("02/01/2006 15:04:05"))
	} else {
		fmt.Fprintln(w, "Non lu")
	}
	if s := senderFrench(m.FromKind); s != "" {
		// "Expéditeur alphanumérique : …", "Numéro court : …"
		fmt.Fprintf(w, "%s%s : pas un numéro de mobile, donc rien n'a été modifié et aucune réponse n'est partie (un nom d'expéditeur peut imiter un numéro).\n", strings.ToUpper(s[:1]), s[1:])
	}
	if s := incompleteFrench(m.Missing, m.Parts); s != "" {
		fmt.Fprintf(w, "SMS %s. Le texte ci-dessous est ce qui est arrivé, dans l'ordre.\n", s)
	}
	if m.AlertID != 0 {
		fmt.Fprintf(w, "Réponse à l'alerte n° %d du %s (vigie alert show %d)\n", m.AlertID,
			m.AlertCreatedAt.Local().Format("02/01/2006 15:04"), m.AlertID)
	}
	fmt.Fprintf(w, "Texte : %s\n", inertBlock(m.Text, "        "))
	if m.Outcome == apitype.OutcomeSubscribePending {
		fmt.Fprintf(w, "Pour valider l'inscription : vigie subscribers approve %s\n", inert(m.From))
	}
}

func newInboxShowCommand(g *globalOptions) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show ID",
		Short: "Afficher un message",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := inboxID(args[0])
			if err != nil {
				return err
			}
			m, err := g.client().InboxMessage(cmd.Context(), id)
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(g.stdout, m)
			}
			printInboxMessage(g.stdout, m)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "sortie JSON")
	return cmd
}

func newInboxReadCommand(g *globalOptions) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "read ID",
		Short: "Marquer un message comme lu",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := inboxID(args[0])
			if err != nil {
				return err
			}
			m, err := g.client().MarkRead(cmd.Context(), id)
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(g.stdout, m)
			}
			fmt.Fprintf(g.stdout, "Message %d marqué comme lu.\n", m.ID)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "sortie JSON")
	return cmd
}
