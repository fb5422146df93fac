package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sync"

	"github.com/spf13/cobra"

	"vigie/gateway"
	"vigie/gateway/api"
	"vigie/gateway/config"
	"vigie/gateway/led"
	"vigie/store"
)

const defaultConfig = "/etc/vigie/vigie.toml"

type serveOptions struct {
	config       string
	forgetErased bool
}

func newServeCommand(g *globalOptions) *cobra.Command {
	var opts serveOptions
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Lancer le démon au premier plan (systemd Type=notify)",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runServe(cmd.Context(), opts, g)
		},
	}
	cmd.Flags().StringVar(&opts.config, "config", defaultConfig, "fichier de configuration")
	cmd.Flags().BoolVar(&opts.forgetErased, "forget-erased", false,
		"clé de la liste d'opposition perdue pour de bon : oublier les numéros effacés (un import pourra les réinscrire) et créer une nouvelle clé")
	return cmd
}

func runServe(ctx context.Context, opts serveOptions, g *globalOptions) error {
	cfg, warns, err := config.Check(opts.config)
	if err != nil {
		return err
	}
	log := newLogger(g.stderr, cfg.Log.SlogLevel())
	for _, w := range warns {
		// What `vigie config check` warns of, in the journal too.
		log.Warn("setting cannot work as set", "component", "config", "key", w.Key, "line", w.Line, "detail", w.Msg)
	}
	if modems := credentialPIN(cfg, os.Getenv("CREDENTIALS_DIRECTORY")); len(modems) > 0 {
		log.Info("SIM PIN from the systemd credential", "modems", modems)
	}
	var devices []string
	for _, m := range cfg.Modems {
		devices = append(devices, m.Name+"="+m.Device)
	}
	log.Info("vigie starting", "component", "daemon", "version", version, "config", opts.config,
		"modems", devices, "database", cfg.Store.Path, "socket", cfg.API.Socket)
	if opts.forgetErased {
		// Left in a unit by mistake, the flag must not stop later starts:
		// with the key present there is nothing to forget.
		switch n, err := store.ForgetErased(cfg.Store.Path, cfg.Store.KeyFile); {
		case errors.Is(err, store.ErrKeyPresent):
			log.Warn("--forget-erased ignored: the suppression key is there", "key_file", cfg.Store.KeyFile)
		case err != nil:
			return err
		default:
			log.Warn("suppression key lost: erased numbers forgotten, an import may add them again", "forgotten", n, "key_file", cfg.Store.KeyFile)
		}
	}
	err = runDaemon(ctx, cfg, log, func() { sdNotify("READY=1") })
	if err != nil && ctx.Err() == nil {
		showFault(cfg.LED.Path, log)
	}
	return err
}

// showFault puts the status LED in its fault pattern when the daemon exits
// on an error (database locked or unreadable, socket in use…): the LED loop
// never started or is gone, and the technician must not see the last
// healthy pattern while systemd restarts the daemon.
func showFault(path string, log *slog.Logger) {
	if path == "" {
		return
	}
	l, err := led.Open(path)
	if err == nil {
		err = l.Set(led.PatternOf(led.Fault))
	}
	if err != nil {
		log.Warn("cannot show the fault on the LED", "led", path, "err", err)
	}
}

// newLogger logs text lines at level; under systemd they go to the journal.
// A key set again by a derived logger (component) appears once.
func newLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(masking{newLastWins(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))})
}

// runDaemon opens the store, listens on the socket and runs the gateway
// until ctx ends. ready is called once the API listens and the modem
// workers are started, so that a client can already ask for status while a
// modem is still initialising.
func runDaemon(ctx context.Context, cfg *config.Config, log *slog.Logger, ready func()) error {
	limitMemory(os.Getenv, log)
	addProcs(os.Getenv, len(cfg.Modems), log)
	if err := os.MkdirAll(filepath.Dir(cfg.Store.Path), 0o700); err != nil {
		return fmt.Errorf("database directory: %w", err)
	}
	st, err := store.Open(cfg.Store.Path, store.WithKeyFile(cfg.Store.KeyFile))
	if err != nil {
		return openFailure(cfg, err)
	}
	defer st.Close()
	if was := st.ModeFixed(); was != 0 {
		log.Warn("database file was readable by others; restricted to 0600", "component", "daemon",
			"database", cfg.Store.Path, "mode_was", fmt.Sprintf("%04o", was))
	}

	// nil (the system clock) but in the test build (testclock.go).
	now, err := newTestClock(ctx, log)
	if err != nil {
		return err
	}
	ticks, err := testSoakHooks(ctx, log)
	if err != nil {
		return err
	}
	gw, err := gateway.New(cfg, st, gateway.Options{Logger: log, Version: version, Now: now,
		CareTick: ticks.care, AvailabilityEvery: ticks.availability})
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(cfg.API.Socket), 0o750); err != nil {
		return fmt.Errorf("socket directory: %w", err)
	}
	l, err := api.Listen(cfg.API.Socket)
	if err != nil {
		return err
	}
	started := func() {
		// The start-up (recovery, counts) read the whole file through the
		// store's mapping: resident memory that no later request needs.
		st.UnmapCold()
		if ready != nil {
			ready()
		}
	}
	return serveAll(ctx, log, api.New(gw, log), l, gw, started)
}

// defaultMemoryLimit is the Go runtime's soft memory limit in the daemon
// (debug.SetMemoryLimit). Without one the collector lets the heap grow to
// twice what is live and the runtime gives idle pages back to the system
// over minutes: 11 MiB of anonymous memory at the peak of figure (e) for
// 4 MiB live, and, in the bad-year soak, 12-25 MiB of idle heap kept after
// a busy day. Under the limit the collector runs as before; near it, it
// collects sooner and returns idle pages at once (its CPU share is capped,
// so a burst with more live data than this slows, never stalls). Measured
// on figure (e): 7.2 MiB anonymous steady, 7.9 at the peak. GOMEMLIMIT in
// the environment (the unit's Environment=) sets another.
const defaultMemoryLimit = 12 << 20

// limitMemory sets defaultMemoryLimit unless GOMEMLIMIT chose one.
func limitMemory(getenv func(string) string, log *slog.Logger) {
	if v := getenv("GOMEMLIMIT"); v != "" {
		log.Info("memory limit from GOMEMLIMIT", "component", "daemon", "limit", v)
		return
	}
	debug.SetMemoryLimit(defaultMemoryLimit)
}

// addProcs gives the runtime one processor more per modem
// (gateway.ProcsFor: each port reader blocks one in select(2)), unless
// GOMAXPROCS chose their number.
func addProcs(getenv func(string) string, modems int, log *slog.Logger) {
	if v := getenv("GOMAXPROCS"); v != "" {
		log.Info("processors from GOMAXPROCS", "component", "daemon", "procs", v)
		return
	}
	runtime.GOMAXPROCS(gateway.ProcsFor(runtime.GOMAXPROCS(0), modems))
}

// openFailure says in French why the database cannot be opened, and what
// to do.
func openFailure(cfg *config.Config, err error) error {
	switch {
	case errors.Is(err, store.ErrLocked):
		return fmt.Errorf("la base %s est déjà ouverte par un autre démon vigie (voir systemctl status vigie) : %w", cfg.Store.Path, err)
	case errors.Is(err, store.ErrCorrupt):
		return damagedDatabase(cfg, err)
	case errors.Is(err, fs.ErrPermission):
		// Typically a backup restored by root with cp: owner root.
		return fmt.Errorf("la base %s n'est pas accessible au démon (utilisateur %s) : "+
			"chown vigie:vigie %s ; chmod 0600 %s, puis systemctl restart vigie : %w",
			cfg.Store.Path, currentUser(), cfg.Store.Path, cfg.Store.Path, err)
	}
	return keyFileError(cfg.Store, err)
}

// currentUser names the daemon's user for a message, its uid if unknown.
func currentUser() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return fmt.Sprint(os.Getuid())
}

// damagedDatabase is the refusal to start on an empty or damaged database
// file, in French, with how to restore a backup: starting on a new empty
// database would lose every subscriber without a word.
func damagedDatabase(cfg *config.Config, err error) error {
	backups := "les copies nocturnes vigie-AAAAMMJJ.db de " + cfg.Backup.Dir + ", ou "
	if cfg.Backup.Keep == 0 {
		backups = ""
	}
	return fmt.Errorf("la base de données %s est vide ou endommagée ; vigie refuse de démarrer "+
		"plutôt que de repartir d'une base vide (tous les abonnés seraient perdus). "+
		"Pour restaurer une sauvegarde : systemctl stop vigie ; remplacer %s par la dernière copie "+
		"(%sun fichier écrit par « vigie backup ») : install -o vigie -g vigie -m 0600 COPIE %s ; "+
		"systemctl start vigie. Détail : %w", cfg.Store.Path, cfg.Store.Path, backups, cfg.Store.Path, err)
}

// serveAll runs the API and the gateway; the first to fail stops the other.
func serveAll(ctx context.Context, log *slog.Logger, srv *api.Server, l net.Listener, gw *gateway.Gateway, ready func()) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errs := make([]error, 2)
	wg.Add(2)
	go func() {
		defer wg.Done()
		defer cancel()
		errs[0] = srv.Serve(ctx, l)
	}()
	go func() {
		defer wg.Done()
		defer cancel()
		errs[1] = gw.Run(ctx)
	}()
	if ready != nil {
		// READY=1 once the API listens (it did before Serve) and the modem
		// workers are started — not when a modem is ready: the daemon
		// stays up without one and says so.
		select {
		case <-gw.Launched():
			ready()
		case <-ctx.Done():
		}
	}
	if every, ok := watchdogInterval(os.Getenv, os.Getpid()); ok {
		wd := &watchdog{interval: every, alive: daemonAlive(gw.Alive, l.Addr().String()), notify: sdNotify, log: log.With("component", "watchdog")}
		wg.Go(func() { wd.run(ctx) })
	}
	wg.Wait()
	log.Info("vigie stopped")
	return errors.Join(errs...)
}

// sdNotify tells systemd about the daemon's state when run as Type=notify;
// outside systemd NOTIFY_SOCKET is unset and it does nothing.
func sdNotify(state string) {
	path := os.Getenv("NOTIFY_SOCKET")
	if path == "" {
		return
	}
	if path[0] == '@' {
		path = "\x00" + path[1:]
	}
	c, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		return
	}
	defer c.Close()
	_, _ = c.Write([]byte(state))
}

// keyFileError says in French what to do when the suppression list's key
// file is missing, foreign or readable by others; other errors pass as
// they are.
func keyFileError(c config.Store, err error) error {
	switch {
	case errors.Is(err, store.ErrKeyMissing):
		return fmt.Errorf("la clé de la liste d'opposition %s est introuvable, et la base %s contient des numéros effacés "+
			"que seule cette clé permet de reconnaître : restaurez le fichier depuis sa sauvegarde (faite à part de la base), "+
			"propriétaire vigie, mode 0600, puis relancez vigie ; si elle est perdue pour de bon, « vigie serve --forget-erased » "+
			"oublie les numéros effacés (un import pourra alors les réinscrire) et crée une nouvelle clé : %w", c.KeyFile, c.Path, err)
	case errors.Is(err, store.ErrKeyMismatch):
		return fmt.Errorf("la clé de la liste d'opposition %s n'est pas celle de la base %s : restaurez la clé sauvegardée "+
			"avec cette base (ou la base qui va avec cette clé), puis relancez vigie : %w", c.KeyFile, c.Path, err)
	case errors.Is(err, store.ErrKeyFile):
		return fmt.Errorf("la clé de la liste d'opposition %s est refusée : elle doit rester telle que vigie l'a écrite, "+
			"lisible par vigie seul (chown vigie %s ; chmod 600 %s), puis relancez vigie : %w", c.KeyFile, c.KeyFile, c.KeyFile, err)
	}
	return err
}
