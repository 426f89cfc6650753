// Command rinnovo-ferretdb runs an embedded FerretDB (MongoDB wire protocol)
// with the SQLite backend, for local development and integration tests.
//
// Clients talk to a small proxy that makes single-document writes atomic, as MongoDB's
// are (see atomic_proxy.go); FerretDB itself listens on a Unix socket in the data dir.
//
// Usage:
//
//	rinnovo-ferretdb -listen-addr 127.0.0.1:27017 -data-dir /path/to/dir
//
// It stops cleanly on SIGTERM or SIGINT.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listenAddr := flag.String("listen-addr", "127.0.0.1:27017", "TCP address to listen on")
	dataDir := flag.String("data-dir", "", "directory holding the SQLite databases (required)")
	logLevel := flag.String("log-level", "warn", "log level: debug, info, warn or error")
	flag.Parse()

	if err := run(*listenAddr, *dataDir, *logLevel); err != nil {
		fmt.Fprintf(os.Stderr, "rinnovo-ferretdb: %v\n", err)
		os.Exit(1)
	}
}

func run(listenAddr, dataDir, logLevel string) error {
	if dataDir == "" {
		return fmt.Errorf("-data-dir is required")
	}

	var level slog.Level
	if err := level.UnmarshalText([]byte(logLevel)); err != nil {
		return fmt.Errorf("bad -log-level %q: %w", logLevel, err)
	}

	dir, err := filepath.Abs(dataDir)
	if err != nil {
		return err
	}

	if err = os.MkdirAll(dir, 0o755); err != nil {
		return err
	}

	// Collect when the heap has grown by four times the live data, unless GOGC says
	// otherwise: the live heap is a few MiB, and against Go's default (100) this cut the
	// server's CPU under our services' load by about a fifth.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}

	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	socketDir := dir
	if len(filepath.Join(dir, "ferretdb.sock")) > 100 { // Unix socket paths are short
		if socketDir, err = os.MkdirTemp("", "rinnovo-ferretdb-"); err != nil {
			return err
		}
		defer os.RemoveAll(socketDir)
	}
	socket := filepath.Join(socketDir, "ferretdb.sock")
	_ = os.Remove(socket) // left by a killed run

	f, err := ferretdb.New(&ferretdb.Config{
		Listener: ferretdb.ListenerConfig{Unix: socket},
		Logger:   logger,
		Handler:  "sqlite",
		// WAL with synchronous=normal, as MongoDB acknowledges a write (w:1) before its
		// journal is flushed: a committed write survives the process being killed, and only
		// a crash of the machine itself may lose the last ones. A flush per commit (SQLite's
		// default, "full") cost about 0.45 ms of waiting per write here, with every write
		// waiting in line behind the proxy's lock.
		SQLiteURL: "file:" + dir + "/?_pragma=synchronous(normal)",
	})
	if err != nil {
		return err
	}

	listener, err := net.Listen("tcp", listenAddr)
	if err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	proxy := &atomicProxy{backend: socket, logger: logger}
	proxyDone := make(chan error, 1)
	go func() { proxyDone <- proxy.serve(listener) }()
	go func() {
		<-ctx.Done()
		listener.Close()
	}()

	runErr := f.Run(ctx)
	listener.Close()
	if err := <-proxyDone; err != nil && runErr == nil {
		runErr = err
	}
	return runErr
}
