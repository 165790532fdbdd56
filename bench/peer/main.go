// sluice's peer in the benchmarks: the same service served by go-control-plane (a snapshot cache
// with one snapshot for every node, ADS state-of-the-world and delta) behind the admin calls the
// benchmarks make. Started by bench/lib/peer-process.ts; flags name the loopback ports. SIGUSR2
// collects garbage (the memory benchmark's samples); SIGTERM stops it.

package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"syscall"

	discovery "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"github.com/envoyproxy/go-control-plane/pkg/log"
	serverv3 "github.com/envoyproxy/go-control-plane/pkg/server/v3"
	"google.golang.org/grpc"
)

// logLine writes one JSON line with a pino-style level (40 warn, 50 error), as sluice logs.
func logLine(level int) func(string, ...any) {
	return func(format string, args ...any) {
		line, _ := json.Marshal(map[string]any{"level": level, "msg": fmt.Sprintf(format, args...)})
		fmt.Fprintln(os.Stderr, string(line))
	}
}

func main() {
	host := flag.String("xds-host", "127.0.0.1", "address the xDS and admin servers bind")
	xdsPort := flag.Int("xds-port", 18000, "xDS gRPC port (ADS, SotW and delta)")
	adminPort := flag.Int("admin-port", 9901, "admin HTTP port")
	listenerPort := flag.Uint("listener-port", 10000, "port of the `default` listener served to Envoy")
	flag.Parse()
	fail := logLine(50)

	tracker := newTracker()
	cache := cachev3.NewSnapshotCache(true, everyNode{}, log.LoggerFuncs{WarnFunc: logLine(40), ErrorFunc: fail})
	publisher, err := newPublisher(cache, tracker, uint32(*listenerPort))
	if err != nil {
		fail("first snapshot: %v", err)
		os.Exit(1)
	}

	xdsListener, err := net.Listen("tcp", fmt.Sprintf("%s:%d", *host, *xdsPort))
	if err != nil {
		fail("xDS port: %v", err)
		os.Exit(2)
	}
	adminListener, err := net.Listen("tcp", fmt.Sprintf("%s:%d", *host, *adminPort))
	if err != nil {
		fail("admin port: %v", err)
		os.Exit(2)
	}
	grpcServer := grpc.NewServer(grpc.MaxConcurrentStreams(1_000_000))
	discovery.RegisterAggregatedDiscoveryServiceServer(grpcServer, serverv3.NewServer(context.Background(), cache, tracker.callbacks()))
	go func() {
		if err := grpcServer.Serve(xdsListener); err != nil {
			fail("xDS server: %v", err)
		}
	}()
	httpServer := &http.Server{Handler: (&admin{publisher: publisher, tracker: tracker}).routes()}
	go func() {
		if err := httpServer.Serve(adminListener); err != http.ErrServerClosed {
			fail("admin server: %v", err)
		}
	}()

	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT, syscall.SIGUSR2)
	for received := range signals {
		if received == syscall.SIGUSR2 {
			runtime.GC()
			debug.FreeOSMemory()
			continue
		}
		grpcServer.Stop()
		_ = httpServer.Close()
		return
	}
}
