package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"vigie/gateway/config"
	"vigie/gateway/french"
	"vigie/modem"
)

// problemFrench words each probe problem for the technician, with what to do.
var problemFrench = map[modem.Problem]string{
	modem.ProblemNoAnswer:    "aucune réponse du modem sur %s (est-ce bien son port AT ? le débrancher et le rebrancher)",
	modem.ProblemPortBusy:    "port %s occupé par un autre programme (ModemManager ? vigie encore démarré ? « systemctl stop vigie »)",
	modem.ProblemNoDevice:    "aucun périphérique %s : modem débranché, ou règle udev absente",
	modem.ProblemSIMPIN:      "SIM verrouillée : code PIN requis (le mettre dans /etc/vigie/pin, root, 0600)",
	modem.ProblemSIMPUK:      "SIM bloquée : code PUK requis (trop de codes PIN faux) ; la débloquer dans un téléphone",
	modem.ProblemSIMAbsent:   "pas de carte SIM dans le modem",
	modem.ProblemSIMBusy:     "SIM en cours d'initialisation : relancer la sonde dans une minute",
	modem.ProblemNoNetwork:   "pas de réseau",
	modem.ProblemDenied:      "réseau refusé : SIM non activée ou abonnement suspendu",
	modem.ProblemSearching:   "pas de réseau pour l'instant (recherche en cours)",
	modem.ProblemRoaming:     "en itinérance sur un réseau étranger",
	modem.ProblemWeakSignal:  "signal faible : déplacer le modem ou ajouter une antenne",
	modem.ProblemStorageFull: "mémoire SMS pleine : les SMS reçus attendent chez l'opérateur",
	modem.ProblemNoSMSC:      "numéro du centre SMS absent de la SIM",
	modem.ProblemSMSSetup:    "le modem refuse le réglage SMS dont le démon a besoin (voir « non lu » ci-dessus) ; signaler ce modèle de modem",
	modem.ProblemNoReports:   "le modem ne garde pas les accusés de réception (AT+CNMI) : les SMS envoyés resteront « envoyé », jamais « remis »",
	modem.ProblemUnread:      "l'état de la SIM ou du réseau n'a pas pu être lu (voir « non lu » ci-dessus) : relancer la sonde, puis débrancher et rebrancher le modem",
}

// quirkText words each quirk for the technician; %s is its detail.
var quirkText = map[modem.QuirkCode]string{
	modem.QuirkSetupCommand: "commande propre à la famille envoyée : %s",
	modem.QuirkCPINNoOK:     "réponse à AT+CPIN? sans OK, complétée aussitôt",
	modem.QuirkSIMWait:      "SIM en cours de démarrage : attendu %s s",
	modem.QuirkPINSettle:    "pause de %s s après le code PIN",
	modem.QuirkSMSWait:      "service SMS pas encore prêt : attendu %s s",
	modem.QuirkStorageKept:  "choix de la mémoire refusé, celle du modem est gardée (%s)",
	modem.QuirkReportsSR:    "accusés de réception lus aussi dans la mémoire « SR »",
	modem.QuirkCNMI:         "notifications réglées selon AT+CNMI=? : AT+CNMI=%s",
	modem.QuirkNUL:          "octets NUL ignorés (%s)",
	modem.QuirkNotSupported: "« COMMAND NOT SUPPORT » lu comme ERROR (%s)",
	modem.QuirkNA:           "« NA » lu comme ERROR (%s)",
	modem.QuirkCPINDone:     "OK ajouté après une réponse +CPIN: qui n'en avait pas (%s)",
	modem.QuirkLateOK:       "OK tardif ignoré après une réponse +CPIN: complétée (%s)",
}

// quirkFrench says, for the technician, what was done for the modem.
func quirkFrench(q modem.Quirk) string {
	d := inert(q.Detail)
	switch q.Code {
	case modem.QuirkSIMWait, modem.QuirkPINSettle, modem.QuirkSMSWait:
		d = strings.Replace(d, ".", ",", 1) // seconds, with a decimal comma
	}
	text, ok := quirkText[q.Code]
	if !ok {
		return inert(string(q.Code)) + " " + d
	}
	if !strings.Contains(text, "%s") {
		return text
	}
	return fmt.Sprintf(text, d)
}

// readFrench names, for the technician, what the probe could not read.
var readFrench = map[string]string{
	"SIM": "état de la SIM", "registration": "réseau", "signal": "signal", "operator": "opérateur",
	"storage": "mémoire SMS", "SMS setup": "réglage SMS", "network time": "heure du réseau",
	"maker (AT+CGMI)": "fabricant", "model (AT+CGMM)": "modèle", "firmware (AT+CGMR)": "version", "IMEI (AT+CGSN)": "IMEI",
}

// pinSource is where the packaged unit takes the SIM PIN from
// (LoadCredential=pin:/etc/vigie/pin): the probe, run as root, reads it too.
const pinSource = "/etc/vigie/pin"

// warningOnly are problems that do not keep the modem from sending.
var warningOnly = map[modem.Problem]bool{modem.ProblemRoaming: true, modem.ProblemWeakSignal: true, modem.ProblemNoReports: true}

// errReported: the command already told the user what is wrong; exit 1.
var errReported = errors.New("already reported")

func newModemCommand(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "modem",
		Short: "Diagnostic du modem (démon arrêté)",
	}
	cmd.AddCommand(newModemProbeCommand(g))
	return cmd
}

func newModemProbeCommand(g *globalOptions) *cobra.Command {
	var device, configPath string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "probe",
		Short: "Interroger le modem directement et dire ce qui ne va pas",
		Long: "Ouvre le modem directement (le démon doit être arrêté : systemctl stop vigie)\n" +
			"et le prépare comme le démon le fait (mode SMS, mémoire, notifications),\n" +
			"puis lit son identité, la SIM, le réseau, le signal, le centre SMS et la mémoire\n" +
			"et donne un diagnostic, avec la famille de modem reconnue et ses particularités.\n" +
			"Le code PIN de la configuration (ou de " + pinSource + ") est saisi une fois, comme le\n" +
			"ferait le démon ; avec --device seul, aucun code PIN n'est saisi.\n" +
			"Code de sortie 0 exactement quand le démon pourrait envoyer des SMS, 1 sinon.",
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			targets := []modem.Config{{Device: device}}
			if device == "" {
				cfg, err := config.Load(configPath)
				if err != nil {
					return usageError{fmt.Errorf("sans --device, les modems viennent de la configuration : %w", err)}
				}
				targets = targets[:0]
				for _, m := range cfg.Modems {
					c, err := probeTarget(m, pinSource)
					if err != nil {
						return err
					}
					targets = append(targets, c)
				}
			}
			var reports []modem.Report
			blocked := false
			for _, c := range targets {
				r, _ := modem.Probe(c)
				reports = append(reports, r)
				for _, p := range r.Problems {
					blocked = blocked || !warningOnly[p]
				}
			}
			if asJSON {
				if err := printJSON(g.stdout, reports); err != nil {
					return err
				}
			} else {
				for _, r := range reports {
					printProbe(g.stdout, r)
				}
			}
			if blocked {
				return errReported
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&device, "device", "", "port série du modem (par défaut : ceux de la configuration)")
	cmd.Flags().StringVar(&configPath, "config", defaultConfig, "fichier de configuration")
	cmd.Flags().BoolVar(&asJSON, "json", false, "sortie JSON")
	return cmd
}

// probeTarget is how the daemon would open a configured modem: its
// device, speed, timeouts and PIN (pin, pin_file, or the credential's
// source file when neither is set and it is readable).
func probeTarget(m config.Modem, credential string) (modem.Config, error) {
	c := modem.Config{Name: m.Name, Device: m.Device, Baud: m.Baud, PIN: m.PIN,
		CommandTimeout: m.CommandTimeout, SendTimeout: m.SendTimeout}
	file := m.PINFile
	if c.PIN == "" && file == "" {
		if _, err := os.Stat(credential); err == nil {
			file = credential
		}
	}
	if c.PIN == "" && file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return modem.Config{}, fmt.Errorf("code PIN du modem %q illisible (lancer la sonde avec sudo) : %w", m.Name, err)
		}
		c.PIN = strings.TrimSpace(string(b))
	}
	return c, nil
}

// printProbe writes what the probe read and its diagnosis, in French.
// Identity strings come from the modem: they are made inert first.
func printProbe(w io.Writer, r modem.Report) {
	fmt.Fprintf(w, "Modem %s\n", r.Device)
	id := r.Identity
	if id.Manufacturer != "" || id.Model != "" {
		fmt.Fprintf(w, "  Modèle : %s %s, version %s, IMEI %s\n", inert(id.Manufacturer), inert(id.Model), inert(id.Revision), inert(id.IMEI))
	}
	if r.Family != "" {
		family := r.Family
		if family == "generic" {
			family = "générique (norme 3GPP)"
		}
		fmt.Fprintf(w, "  Famille reconnue : %s\n", family)
	}
	for _, q := range r.Quirks {
		fmt.Fprintf(w, "  Particularité traitée : %s\n", quirkFrench(q))
	}
	if r.SIM != "" {
		fmt.Fprintf(w, "  SIM : %s\n", r.SIM)
	}
	if r.Registration != "" {
		fmt.Fprintf(w, "  Réseau : %s", registrationFrench[r.Registration])
		if r.Operator != "" {
			fmt.Fprintf(w, ", opérateur %q", r.Operator)
		}
		fmt.Fprintln(w)
	}
	if r.Signal != nil {
		if r.Signal.RSSI == 99 {
			fmt.Fprintln(w, "  Signal : inconnu")
		} else {
			fmt.Fprintf(w, "  Signal : %d/5 (%d dBm)\n", r.Signal.Bars, r.Signal.DBm)
		}
	}
	if id.SMSC != "" {
		fmt.Fprintf(w, "  Centre SMS : %s\n", inert(id.SMSC))
	}
	if r.NetworkTime != nil {
		clock := "à l'heure"
		switch off := r.ClockOffset; {
		case off >= time.Minute:
			clock = "en avance de " + french.Duration(off)
		case off <= -time.Minute:
			clock = "en retard de " + french.Duration(-off)
		}
		fmt.Fprintf(w, "  Heure du réseau : %s (horloge du système %s)\n", r.NetworkTime.Local().Format("02/01/2006 15:04:05"), clock)
	}
	if r.Storage != nil {
		fmt.Fprintf(w, "  Mémoire SMS (%s) : %d/%d\n", r.Storage.Mem, r.Storage.Used, r.Storage.Total)
	}
	if id.Model != "" {
		fmt.Fprintf(w, "  Prise en charge : AT+CMMS %s, accusés de réception %s, service SMS (AT+CSMS) %s\n",
			yesNo(r.Support.CMMS), yesNo(r.Support.StatusReports), orUnknown(r.Support.CSMS))
	}
	for _, e := range r.Errors {
		what, detail, _ := strings.Cut(e, ": ")
		if fr, ok := readFrench[what]; ok {
			what = fr
		}
		fmt.Fprintf(w, "  Non lu : %s (%s)\n", what, inert(detail))
	}
	if len(r.Problems) == 0 {
		if len(r.Errors) > 0 {
			fmt.Fprintln(w, "Diagnostic : le modem peut envoyer et recevoir des SMS, mais ce qui est marqué « non lu » n'a pas pu être lu.")
			return
		}
		fmt.Fprintln(w, "Diagnostic : aucun problème, le modem peut envoyer et recevoir des SMS.")
		return
	}
	if !slices.ContainsFunc(r.Problems, func(p modem.Problem) bool { return !warningOnly[p] }) {
		fmt.Fprintln(w, "Diagnostic : le modem peut envoyer des SMS, avec ces réserves :")
	} else {
		fmt.Fprintln(w, "Diagnostic :")
	}
	for _, p := range r.Problems {
		text, ok := problemFrench[p]
		if !ok {
			text = string(p)
		}
		if strings.Contains(text, "%s") {
			text = fmt.Sprintf(text, r.Device)
		}
		fmt.Fprintf(w, "  - %s\n", text)
	}
}

func yesNo(b bool) string {
	if b {
		return "oui"
	}
	return "non"
}

func orUnknown(s string) string {
	if s == "" {
		return "inconnu"
	}
	return s
}
