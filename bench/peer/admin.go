// The admin calls the benchmarks make of sluice, answered the same way for the peer: define the
// service, move its weights, the current revision (ETag), wait for a revision to reach every
// connected node, /metrics (CPU, RSS, Go heap) and /readyz. Loopback HTTP; JSON bodies.

package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type admin struct {
	publisher *publisher
	tracker   *tracker
}

func (a *admin) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, 0, map[string]string{"status": "ready"})
	})
	mux.HandleFunc("GET /v1/services", a.listServices)
	mux.HandleFunc("PUT /v1/services/{name}", a.putService)
	mux.HandleFunc("PUT /v1/services/{name}/weights", a.putWeights)
	mux.HandleFunc("GET /v1/revisions/{revision}", a.getRevision)
	mux.HandleFunc("GET /metrics", metrics)
	return mux
}

func writeJSON(w http.ResponseWriter, status int, revision int, body any) {
	w.Header().Set("content-type", "application/json")
	if revision > 0 {
		w.Header().Set("etag", fmt.Sprintf("%q", strconv.Itoa(revision)))
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

func refuse(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, 0, map[string]string{"code": code, "message": message})
}

func (a *admin) listServices(w http.ResponseWriter, _ *http.Request) {
	revision, svc := a.publisher.current()
	services := []string{}
	if svc != nil {
		services = append(services, svc.Name)
	}
	writeJSON(w, http.StatusOK, revision, map[string]any{"revision": revision, "services": services})
}

func (a *admin) putService(w http.ResponseWriter, r *http.Request) {
	var body service
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		refuse(w, http.StatusBadRequest, "PEER_BAD_BODY", err.Error())
		return
	}
	body.Name = r.PathValue("name")
	if len(body.Versions) == 0 || body.Stable == "" || body.PinHeader == "" || body.Match.Prefix == "" {
		refuse(w, http.StatusBadRequest, "PEER_BAD_BODY", "versions, stable, pinHeader and match.prefix are required")
		return
	}
	revision, err := a.publisher.commit(func(current *service) (*service, error) {
		if current != nil && current.Name != body.Name {
			return nil, fmt.Errorf("the peer serves one service, %q", current.Name)
		}
		return &body, nil
	})
	if err != nil {
		refuse(w, http.StatusConflict, "PEER_REFUSED", err.Error())
		return
	}
	writeJSON(w, http.StatusOK, revision, map[string]any{"revision": revision, "name": body.Name})
}

func (a *admin) putWeights(w http.ResponseWriter, r *http.Request) {
	var weights map[string]uint32
	if err := json.NewDecoder(r.Body).Decode(&weights); err != nil {
		refuse(w, http.StatusBadRequest, "PEER_BAD_BODY", err.Error())
		return
	}
	name := r.PathValue("name")
	revision, err := a.publisher.commit(func(current *service) (*service, error) {
		if current == nil || current.Name != name {
			return nil, fmt.Errorf("no service %q", name)
		}
		known := map[string]bool{}
		for _, version := range current.Versions {
			known[version.Name] = true
		}
		var sum uint32
		for version, weight := range weights {
			if !known[version] {
				return nil, fmt.Errorf("no version %q", version)
			}
			sum += weight
		}
		if sum == 0 {
			return nil, fmt.Errorf("weights add up to 0")
		}
		next := *current
		next.Weights = weights
		return &next, nil
	})
	if err != nil {
		refuse(w, http.StatusBadRequest, "PEER_REFUSED", err.Error())
		return
	}
	writeJSON(w, http.StatusOK, revision, map[string]any{"revision": revision, "name": name, "weights": weights})
}

func (a *admin) getRevision(w http.ResponseWriter, r *http.Request) {
	revision, err := strconv.Atoi(r.PathValue("revision"))
	if err != nil || revision < 0 {
		refuse(w, http.StatusBadRequest, "PEER_BAD_REVISION", "the revision is a number")
		return
	}
	if revision > a.tracker.currentRevision() {
		refuse(w, http.StatusNotFound, "PEER_NO_REVISION", fmt.Sprintf("no revision %d yet", revision))
		return
	}
	wait := time.Duration(0)
	if text := r.URL.Query().Get("wait"); text != "" {
		if wait, err = time.ParseDuration(text); err != nil || wait < 0 || wait > 5*time.Minute {
			refuse(w, http.StatusBadRequest, "PEER_BAD_WAIT", "wait is a duration such as 30s, at most 5m")
			return
		}
	}
	writeJSON(w, http.StatusOK, 0, a.tracker.wait(revision, wait))
}

// metrics writes the series the benchmarks read, in Prometheus' text format.
func metrics(w http.ResponseWriter, _ *http.Request) {
	var usage syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &usage)
	cpu := time.Duration(usage.Utime.Nano() + usage.Stime.Nano()).Seconds()
	var rss float64
	if statm, err := os.ReadFile("/proc/self/statm"); err == nil {
		if fields := strings.Fields(string(statm)); len(fields) > 1 {
			pages, _ := strconv.ParseFloat(fields[1], 64)
			rss = pages * float64(os.Getpagesize())
		}
	}
	var memory runtime.MemStats
	runtime.ReadMemStats(&memory)
	w.Header().Set("content-type", "text/plain; version=0.0.4")
	fmt.Fprintf(w, "process_cpu_seconds_total %g\nprocess_resident_memory_bytes %g\ngo_memstats_heap_alloc_bytes %d\ngo_goroutines %d\n",
		cpu, rss, memory.HeapAlloc, runtime.NumGoroutine())
}
