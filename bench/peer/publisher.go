// Revisions of the peer's one service and the snapshot each one becomes: ONE snapshot in the
// cache, shared by every node. A type's version is the revision its content last changed at, so
// a weight change re-sends routes alone (as sluice's content-hash versions do). Owns the
// revision counter; tells the tracker each revision's type versions.

package main

import (
	"bytes"
	"context"
	"strconv"
	"sync"

	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/proto"
)

// sharedSnapshot is the single cache key every node maps to.
const sharedSnapshot = "all"

type everyNode struct{}

func (everyNode) ID(*core.Node) string { return sharedSnapshot }

// typeOrder indexes per-type arrays: clusters, endpoints, listeners, routes.
var typeOrder = [4]string{resource.ClusterType, resource.EndpointType, resource.ListenerType, resource.RouteType}

type typeVersions [4]int

type publisher struct {
	mu           sync.Mutex
	cache        cachev3.SnapshotCache
	tracker      *tracker
	listenerPort uint32
	revision     int
	service      *service
	contents     [4][]byte
	versions     typeVersions
}

func newPublisher(cache cachev3.SnapshotCache, tracker *tracker, listenerPort uint32) (*publisher, error) {
	p := &publisher{cache: cache, tracker: tracker, listenerPort: listenerPort}
	return p, p.publish(nil)
}

func (p *publisher) current() (int, *service) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.revision, p.service
}

// commit makes a new revision from the service `change` derives from the current one.
func (p *publisher) commit(change func(*service) (*service, error)) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	next, err := change(p.service)
	if err != nil {
		return 0, err
	}
	p.revision++
	if err := p.publish(next); err != nil {
		p.revision--
		return 0, err
	}
	return p.revision, nil
}

// publish builds the snapshot of p.revision with `svc`; called with p.mu held (or before use).
func (p *publisher) publish(svc *service) error {
	set, err := buildResources(svc, p.listenerPort)
	if err != nil {
		return err
	}
	lists := [4][]types.Resource{set.clusters, set.endpoints, set.listeners, set.routes}
	snapshot := &cachev3.Snapshot{}
	versions := p.versions
	var contents [4][]byte
	for i, items := range lists {
		contents[i], err = encodeAll(items)
		if err != nil {
			return err
		}
		if p.revision == 0 || !bytes.Equal(contents[i], p.contents[i]) {
			versions[i] = p.revision
		}
		snapshot.Resources[cachev3.GetResponseType(typeOrder[i])] = cachev3.NewResources(strconv.Itoa(versions[i]), items)
	}
	if err := snapshot.Consistent(); err != nil {
		return err
	}
	// The tracker learns the versions first: an ACK of the new snapshot must find them.
	p.tracker.revisionPublished(p.revision, versions, snapshot)
	if err := p.cache.SetSnapshot(context.Background(), sharedSnapshot, snapshot); err != nil {
		return err
	}
	p.service, p.contents, p.versions = svc, contents, versions
	return nil
}

func encodeAll(items []types.Resource) ([]byte, error) {
	var out []byte
	options := proto.MarshalOptions{Deterministic: true}
	for _, item := range items {
		encoded, err := options.Marshal(item)
		if err != nil {
			return nil, err
		}
		out = append(out, encoded...)
	}
	return out, nil
}
