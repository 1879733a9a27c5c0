// Command ferretdb runs FerretDB 1.24 with its SQLite backend as the local MongoDB-wire store.
//
// It wraps FerretDB's embeddable package instead of installing cmd/ferretdb because
// `go install github.com/FerretDB/FerretDB/cmd/ferretdb@v1.24.2` cannot work outside FerretDB's
// own checkout: the release reads build/version/version.txt, which its module zip omits, and
// panics at start. The embeddable package skips that file and runs the same handler.
package main

import (
	"context"
	"flag"
	"log"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listenAddr := flag.String("listen-addr", "127.0.0.1:27017", "TCP address to listen on")
	sqliteURL := flag.String("sqlite-url", "file:data/", "SQLite backend URL: a directory, one database file per MongoDB database")
	logLevel := flag.String("log-level", "warn", "debug, info, warn or error")
	flag.Parse()

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		log.Fatalf("bad -log-level: %v", err)
	}
	logger := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	db, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: *listenAddr},
		Handler:   "sqlite",
		SQLiteURL: *sqliteURL,
		Logger:    logger,
	})
	if err != nil {
		log.Fatal(err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	logger.Warn("ferretdb listening", "addr", *listenAddr, "uri", db.MongoDBURI())
	if err := db.Run(ctx); err != nil {
		log.Fatal(err)
	}
}
