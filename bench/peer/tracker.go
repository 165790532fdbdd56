// What each connected node has applied, learnt from go-control-plane's stream callbacks: per
// stream and type the version it ACKed (SotW: version_info; delta: the system_version_info of the
// response whose nonce it ACKed, or the current version when its first request declares holding
// exactly the current resources). Answers GET /v1/revisions/{n}'s question — has every connected
// node applied n? — without walking the fleet on every ACK. Never writes to the cache.

package main

import (
	"context"
	"sort"
	"strconv"
	"sync"
	"time"

	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discovery "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	serverv3 "github.com/envoyproxy/go-control-plane/pkg/server/v3"
)

const notApplied = -1

type streamKey struct {
	delta bool
	id    int64
}

type streamState struct {
	id    int64
	node  string
	acked [4]int
	// Delta: the last response sent per type, to read what an ACK's nonce acknowledges.
	sentNonce   [4]string
	sentVersion [4]int
	requested   [4]bool
	applied     int
}

type nodeState struct {
	streams map[streamKey]*streamState
	applied int
}

type tracker struct {
	mu       sync.Mutex
	history  []typeVersions // per revision
	snapshot *cachev3.Snapshot
	streams  map[streamKey]*streamState
	nodes    map[string]*nodeState
	// Nodes per applied revision: complete(n) reads a handful of keys, not every node.
	byApplied map[int]int
	// Closed and replaced whenever a node's applied revision, or the set of nodes, changes.
	changed chan struct{}
}

func newTracker() *tracker {
	return &tracker{
		streams:   map[streamKey]*streamState{},
		nodes:     map[string]*nodeState{},
		byApplied: map[int]int{},
		changed:   make(chan struct{}),
	}
}

func typeIndex(typeURL string) int {
	for i, url := range typeOrder {
		if url == typeURL {
			return i
		}
	}
	return -1
}

func (t *tracker) revisionPublished(revision int, versions typeVersions, snapshot *cachev3.Snapshot) {
	// Delta clients' declared versions are compared with the snapshot's per-resource hashes.
	_ = snapshot.ConstructVersionMap()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.history = append(t.history[:revision], versions)
	t.snapshot = snapshot
	// A revision that changed no resource is applied by every node that applied the one before it.
	for _, node := range t.nodes {
		for _, stream := range node.streams {
			stream.applied = t.appliedOf(stream)
		}
		t.settle(node)
	}
}

// appliedOf is the latest revision whose every type the stream holds (or a later content of).
func (t *tracker) appliedOf(stream *streamState) int {
	for _, version := range stream.acked {
		if version == notApplied {
			return notApplied
		}
	}
	for revision := len(t.history) - 1; revision >= 0; revision-- {
		holds := true
		for i, version := range t.history[revision] {
			if stream.acked[i] < version {
				holds = false
				break
			}
		}
		if holds {
			return revision
		}
	}
	return notApplied
}

// settle recomputes a node's applied revision (its slowest stream's) and wakes waiters on a change.
func (t *tracker) settle(node *nodeState) {
	applied := notApplied
	first := true
	for _, stream := range node.streams {
		if first || stream.applied < applied {
			applied, first = stream.applied, false
		}
	}
	if applied == node.applied {
		return
	}
	t.byApplied[node.applied]--
	t.byApplied[applied]++
	node.applied = applied
	t.wake()
}

func (t *tracker) wake() {
	close(t.changed)
	t.changed = make(chan struct{})
}

func (t *tracker) open(key streamKey) {
	t.mu.Lock()
	defer t.mu.Unlock()
	stream := &streamState{id: key.id, applied: notApplied}
	for i := range stream.acked {
		stream.acked[i] = notApplied
	}
	t.streams[key] = stream
}

func (t *tracker) closed(key streamKey) {
	t.mu.Lock()
	defer t.mu.Unlock()
	stream, ok := t.streams[key]
	if !ok {
		return
	}
	delete(t.streams, key)
	node, ok := t.nodes[stream.node]
	if !ok {
		return
	}
	delete(node.streams, key)
	if len(node.streams) == 0 {
		t.byApplied[node.applied]--
		delete(t.nodes, stream.node)
		t.wake()
		return
	}
	t.settle(node)
}

// named finds the stream and joins it to its node once a request names the node.
func (t *tracker) named(key streamKey, node *core.Node) *streamState {
	stream, ok := t.streams[key]
	if !ok {
		return nil
	}
	if stream.node == "" && node.GetId() != "" {
		stream.node = node.GetId()
		state, ok := t.nodes[stream.node]
		if !ok {
			state = &nodeState{streams: map[streamKey]*streamState{}, applied: notApplied}
			t.nodes[stream.node] = state
			t.byApplied[notApplied]++
			t.wake()
		}
		state.streams[key] = stream
	}
	return stream
}

func (t *tracker) update(stream *streamState) {
	stream.applied = t.appliedOf(stream)
	if node, ok := t.nodes[stream.node]; ok {
		t.settle(node)
	}
}

func (t *tracker) sotwRequest(id int64, request *discovery.DiscoveryRequest) {
	t.mu.Lock()
	defer t.mu.Unlock()
	stream := t.named(streamKey{false, id}, request.GetNode())
	kind := typeIndex(request.GetTypeUrl())
	if stream == nil || kind < 0 || request.GetErrorDetail() != nil || request.GetVersionInfo() == "" {
		return
	}
	// version_info is the version the client last accepted, on an ACK as on a reconnect.
	version, err := strconv.Atoi(request.GetVersionInfo())
	if err != nil {
		return
	}
	stream.acked[kind] = version
	t.update(stream)
}

func (t *tracker) deltaResponse(id int64, response *discovery.DeltaDiscoveryResponse) {
	t.mu.Lock()
	defer t.mu.Unlock()
	stream := t.streams[streamKey{true, id}]
	kind := typeIndex(response.GetTypeUrl())
	if stream == nil || kind < 0 {
		return
	}
	version, err := strconv.Atoi(response.GetSystemVersionInfo())
	if err != nil {
		version = notApplied
	}
	stream.sentNonce[kind], stream.sentVersion[kind] = response.GetNonce(), version
}

func (t *tracker) deltaRequest(id int64, request *discovery.DeltaDiscoveryRequest) {
	t.mu.Lock()
	defer t.mu.Unlock()
	stream := t.named(streamKey{true, id}, request.GetNode())
	kind := typeIndex(request.GetTypeUrl())
	if stream == nil || kind < 0 {
		return
	}
	first := !stream.requested[kind]
	stream.requested[kind] = true
	switch {
	case request.GetResponseNonce() != "":
		if request.GetErrorDetail() != nil || request.GetResponseNonce() != stream.sentNonce[kind] {
			return
		}
		stream.acked[kind] = stream.sentVersion[kind]
	case first && len(request.GetInitialResourceVersions()) > 0 && t.holdsCurrent(kind, request):
		// A reconnecting client that holds exactly what is current is sent nothing for it.
		stream.acked[kind] = t.history[len(t.history)-1][kind]
	default:
		return
	}
	t.update(stream)
}

// holdsCurrent: the first request's initial_resource_versions match the snapshot for every name it
// subscribes to (every resource of the type when it subscribes by wildcard).
func (t *tracker) holdsCurrent(kind int, request *discovery.DeltaDiscoveryRequest) bool {
	current := t.snapshot.GetVersionMap(typeOrder[kind])
	held := request.GetInitialResourceVersions()
	names := request.GetResourceNamesSubscribe()
	if len(names) == 0 || (len(names) == 1 && names[0] == "*") {
		if len(held) != len(current) {
			return false
		}
		names = names[:0]
		for name := range current {
			names = append(names, name)
		}
	}
	for _, name := range names {
		version, ok := current[name]
		if !ok || held[name] != version {
			return false
		}
	}
	return true
}

func (t *tracker) callbacks() serverv3.CallbackFuncs {
	return serverv3.CallbackFuncs{
		StreamOpenFunc: func(_ context.Context, id int64, _ string) error {
			t.open(streamKey{false, id})
			return nil
		},
		StreamClosedFunc: func(id int64, _ *core.Node) { t.closed(streamKey{false, id}) },
		DeltaStreamOpenFunc: func(_ context.Context, id int64, _ string) error {
			t.open(streamKey{true, id})
			return nil
		},
		DeltaStreamClosedFunc: func(id int64, _ *core.Node) { t.closed(streamKey{true, id}) },
		StreamRequestFunc: func(id int64, request *discovery.DiscoveryRequest) error {
			t.sotwRequest(id, request)
			return nil
		},
		StreamDeltaRequestFunc: func(id int64, request *discovery.DeltaDiscoveryRequest) error {
			t.deltaRequest(id, request)
			return nil
		},
		StreamDeltaResponseFunc: func(id int64, _ *discovery.DeltaDiscoveryRequest, response *discovery.DeltaDiscoveryResponse) {
			t.deltaResponse(id, response)
		},
	}
}

// The revision report, shaped as sluice's GET /v1/revisions/{n} answers it.
type proxyReport struct {
	Node struct {
		ID string `json:"id"`
	} `json:"node"`
	Streams         []streamReport `json:"streams"`
	AppliedRevision *int           `json:"appliedRevision"`
	Applied         bool           `json:"applied"`
}

type streamReport struct {
	ID int64 `json:"id"`
}

type revisionReport struct {
	Revision int           `json:"revision"`
	Current  int           `json:"current"`
	Complete bool          `json:"complete"`
	Proxies  []proxyReport `json:"proxies"`
}

func (t *tracker) completeLocked(revision int) bool {
	for applied, nodes := range t.byApplied {
		if applied < revision && nodes > 0 {
			return false
		}
	}
	return true
}

func (t *tracker) reportLocked(revision int) revisionReport {
	report := revisionReport{Revision: revision, Current: len(t.history) - 1, Complete: t.completeLocked(revision), Proxies: []proxyReport{}}
	for id, node := range t.nodes {
		proxy := proxyReport{Applied: node.applied >= revision}
		proxy.Node.ID = id
		if node.applied != notApplied {
			applied := node.applied
			proxy.AppliedRevision = &applied
		}
		for _, stream := range node.streams {
			proxy.Streams = append(proxy.Streams, streamReport{ID: stream.id})
		}
		sort.Slice(proxy.Streams, func(a, b int) bool { return proxy.Streams[a].ID < proxy.Streams[b].ID })
		report.Proxies = append(report.Proxies, proxy)
	}
	sort.Slice(report.Proxies, func(a, b int) bool { return report.Proxies[a].Node.ID < report.Proxies[b].Node.ID })
	return report
}

// wait answers once every connected node has applied `revision`, or when `timeout` has passed.
func (t *tracker) wait(revision int, timeout time.Duration) revisionReport {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		t.mu.Lock()
		changed := t.changed
		if t.completeLocked(revision) {
			defer t.mu.Unlock()
			return t.reportLocked(revision)
		}
		t.mu.Unlock()
		select {
		case <-changed:
		case <-timer.C:
			t.mu.Lock()
			defer t.mu.Unlock()
			return t.reportLocked(revision)
		}
	}
}

func (t *tracker) currentRevision() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.history) - 1
}
