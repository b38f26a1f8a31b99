// Package cli is the one place the tools meet kong and the process: parse
// flags, build the IO, cancel on SIGINT/SIGTERM, and exit once with the
// documented code.
package cli

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/alecthomas/kong"
	"github.com/s3pipe/s3pipe/lib/stream"
)

// Main parses args into cfg and runs run. It never returns.
func Main(name, description, version string, cfg any, run func(ctx context.Context, io *stream.IO) error) {
	parser, err := kong.New(cfg,
		kong.Name(name),
		kong.Description(description),
		kong.UsageOnError(),
		kong.Vars{"version": name + " " + version},
		kong.ConfigureHelp(kong.HelpOptions{Compact: true}),
	)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		os.Exit(stream.ExitUsage)
	}
	if _, err := parser.Parse(os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		os.Exit(stream.ExitUsage)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err = run(ctx, StdIO())
	stop()
	code, msg := stream.ExitCode(err)
	if msg != "" {
		fmt.Fprintf(os.Stderr, "%s: %s\n", name, msg)
	}
	os.Exit(code)
}

// StdIO is the process's own IO.
func StdIO() *stream.IO {
	tty := false
	if fi, err := os.Stderr.Stat(); err == nil {
		tty = fi.Mode()&os.ModeCharDevice != 0
	}
	return &stream.IO{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv, StderrTTY: tty}
}

// VersionFlag prints the version.
type VersionFlag = kong.VersionFlag
