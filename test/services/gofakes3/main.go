// Command gofakes3-local runs gofakes3 (an S3 server written in Go, in-memory backend) as a
// second S3 implementation for the tests, next to moto: code that talks S3 is run against
// both, so a behaviour one server gets wrong is seen.
//
// It is built and started by test/services/services.sh; do not use it for anything that matters.
package main

import (
	"context"
	"errors"
	"flag"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:15100", "TCP address to listen on")
	flag.Parse()

	// Path-style buckets, buckets created explicitly (as on S3), quiet logs.
	faker := gofakes3.New(s3mem.New(),
		gofakes3.WithHostBucket(false),
		gofakes3.WithAutoBucket(false),
		gofakes3.WithLogger(gofakes3.DiscardLog()),
	)

	listener, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatalf("gofakes3-local: listen %s: %v", *listen, err)
	}
	server := &http.Server{Handler: faker.Server(), ReadHeaderTimeout: 30 * time.Second}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = server.Shutdown(shutdown)
	}()

	log.Printf("gofakes3-local listening on %s", *listen)
	if err := server.Serve(listener); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Printf("gofakes3-local: %v", err)
		os.Exit(1)
	}
}
