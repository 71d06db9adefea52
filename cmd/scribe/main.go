// Command scribe is Scribe's one binary: the collaboration server
// (`scribe serve`), the exporter (`scribe export`) and the load tool
// (`scribe bench`). It parses flags and SCRIBE_* environment variables into a
// config and wires a Store, the server and the exporter; nothing else.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // --timezone works on hosts without a zoneinfo database
)

const usage = `usage: scribe <command> [flags]

commands:
  serve    run the collaboration server (scribe serve -h for its flags)
  export   commit a note into the export repository
  bench    run the load tool against a running server

Every flag can also be set with an environment variable: --data-dir is
SCRIBE_DATA_DIR, --public-url is SCRIBE_PUBLIC_URL, and so on. A flag on
the command line wins over the environment.`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "scribe:", err)
		os.Exit(1)
	}
}

// run dispatches to a command. Each command lives in its own file.
func run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("no command given\n\n%s", usage)
	}
	switch args[0] {
	case "serve":
		return runServe(ctx, args[1:])
	case "export":
		return runExport(ctx, args[1:])
	case "bench":
		return runBench(ctx, args[1:])
	case "help", "-h", "-help", "--help":
		fmt.Println(usage)
		return nil
	default:
		return fmt.Errorf("unknown command %q\n\n%s", args[0], usage)
	}
}
