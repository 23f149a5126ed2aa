// Command ferretdb-local runs an embedded FerretDB (MongoDB wire protocol)
// with the SQLite backend, for local and CI tests only.
//
// It is built and started by test/services/services.sh; do not use it for
// anything that matters.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:27117", "TCP address to listen on")
	dir := flag.String("dir", "", "directory for the SQLite databases (required)")
	flag.Parse()

	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	slog.SetDefault(logger)

	if err := run(*listen, *dir, logger); err != nil {
		logger.Error("ferretdb-local failed", "error", err)
		os.Exit(1)
	}
}

func run(listen, dir string, logger *slog.Logger) error {
	if dir == "" {
		return errors.New("-dir is required")
	}

	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}

	if err = os.MkdirAll(abs, 0o755); err != nil {
		return err
	}

	f, err := ferretdb.New(&ferretdb.Config{
		Listener: ferretdb.ListenerConfig{TCP: listen},
		Logger:   logger,
		Handler:  "sqlite",
		// SQLite URI of a directory: must end with a slash.
		SQLiteURL: "file:" + abs + "/",
	})
	if err != nil {
		return fmt.Errorf("ferretdb.New: %w", err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	logger.Info("ferretdb-local starting", "listen", listen, "dir", abs)

	if err = f.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("ferretdb.Run: %w", err)
	}

	logger.Info("ferretdb-local stopped")

	return nil
}
