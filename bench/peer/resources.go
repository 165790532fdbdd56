// The benchmark's one service as Envoy resources, built the way sluice builds them for it: the
// `default` listener (RDS over ADS), its route configuration (a pin route per version, the
// unknown-pin answer, the weighted split), one EDS cluster and one load assignment per version.
// Pure: no I/O, no cache; the caller turns the result into a snapshot.

package main

import (
	"fmt"
	"sort"
	"strings"
	"time"

	cluster "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpoint "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listener "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	route "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	router "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	hcm "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	upstreamhttp "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	matcher "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

const (
	listenerName   = "default"
	retryOn        = "connect-failure,refused-stream,reset-before-request"
	totalWeight    = 10000
	httpOptionsKey = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"
)

// service is the part of sluice's service body (PUT /v1/services/{name}) the peer serves.
type service struct {
	Name     string                  `json:"-"`
	Match    struct{ Prefix string } `json:"match"`
	Hosts    []string                `json:"hosts"`
	Versions []struct {
		Name      string `json:"name"`
		Endpoints []struct {
			Address string `json:"address"`
			Port    uint32 `json:"port"`
		} `json:"endpoints"`
	} `json:"versions"`
	Weights   map[string]uint32 `json:"weights"`
	Stable    string            `json:"stable"`
	PinHeader string            `json:"pinHeader"`
	Timeout   string            `json:"timeout"`
}

// resourceSet is one snapshot's resources per type.
type resourceSet struct {
	listeners, routes, clusters, endpoints []types.Resource
}

var adsSource = &core.ConfigSource{
	ConfigSourceSpecifier: &core.ConfigSource_Ads{Ads: &core.AggregatedConfigSource{}},
	ResourceApiVersion:    core.ApiVersion_V3,
}

func mustAny(message proto.Message) *anypb.Any {
	packed, err := anypb.New(message)
	if err != nil {
		panic(err)
	}
	return packed
}

func socketAddress(address string, port uint32) *core.Address {
	return &core.Address{Address: &core.Address_SocketAddress{SocketAddress: &core.SocketAddress{
		Address:       address,
		PortSpecifier: &core.SocketAddress_PortValue{PortValue: port},
	}}}
}

func buildListener(port uint32) *listener.Listener {
	manager := &hcm.HttpConnectionManager{
		StatPrefix: listenerName,
		CodecType:  hcm.HttpConnectionManager_AUTO,
		RouteSpecifier: &hcm.HttpConnectionManager_Rds{Rds: &hcm.Rds{
			RouteConfigName: listenerName,
			ConfigSource:    adsSource,
		}},
		HttpFilters: []*hcm.HttpFilter{{
			Name:       "envoy.filters.http.router",
			ConfigType: &hcm.HttpFilter_TypedConfig{TypedConfig: mustAny(&router.Router{})},
		}},
	}
	return &listener.Listener{
		Name:    listenerName,
		Address: socketAddress("0.0.0.0", port),
		FilterChains: []*listener.FilterChain{{Filters: []*listener.Filter{{
			Name:       "envoy.filters.network.http_connection_manager",
			ConfigType: &listener.Filter_TypedConfig{TypedConfig: mustAny(manager)},
		}}}},
	}
}

func versionHeader(header, version string) []*core.HeaderValueOption {
	return []*core.HeaderValueOption{{
		Header:       &core.HeaderValue{Key: header, Value: version},
		AppendAction: core.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD,
	}}
}

func clusterName(svc *service, version string) string {
	return svc.Name + "_" + version
}

// splitWeights scales the service's weights to totalWeight; the stable version takes the rounding.
func splitWeights(svc *service) map[string]uint32 {
	var sum uint32
	for _, weight := range svc.Weights {
		sum += weight
	}
	scaled := map[string]uint32{}
	var given uint32
	for _, version := range svc.Versions {
		if version.Name == svc.Stable || sum == 0 {
			continue
		}
		scaled[version.Name] = svc.Weights[version.Name] * totalWeight / sum
		given += scaled[version.Name]
	}
	scaled[svc.Stable] = totalWeight - given
	return scaled
}

func buildRoutes(svc *service, timeout time.Duration) *route.RouteConfiguration {
	retry := &route.RetryPolicy{RetryOn: retryOn, NumRetries: wrapperspb.UInt32(2)}
	var routes []*route.Route
	var names []string
	for _, version := range svc.Versions {
		names = append(names, version.Name)
		routes = append(routes, &route.Route{
			Name: svc.Name + "_pin_" + version.Name,
			Match: &route.RouteMatch{
				PathSpecifier: &route.RouteMatch_Prefix{Prefix: svc.Match.Prefix},
				Headers: []*route.HeaderMatcher{{
					Name: svc.PinHeader,
					HeaderMatchSpecifier: &route.HeaderMatcher_StringMatch{StringMatch: &matcher.StringMatcher{
						MatchPattern: &matcher.StringMatcher_Exact{Exact: version.Name},
					}},
				}},
			},
			Action: &route.Route_Route{Route: &route.RouteAction{
				ClusterSpecifier: &route.RouteAction_Cluster{Cluster: clusterName(svc, version.Name)},
				Timeout:          durationpb.New(timeout),
				RetryPolicy:      retry,
			}},
			ResponseHeadersToAdd: versionHeader(svc.PinHeader, version.Name),
		})
	}
	routes = append(routes, &route.Route{
		Name: svc.Name + "_unknown-pin",
		Match: &route.RouteMatch{
			PathSpecifier: &route.RouteMatch_Prefix{Prefix: svc.Match.Prefix},
			Headers: []*route.HeaderMatcher{{
				Name:                 svc.PinHeader,
				HeaderMatchSpecifier: &route.HeaderMatcher_PresentMatch{PresentMatch: true},
			}},
		},
		Action: &route.Route_DirectResponse{DirectResponse: &route.DirectResponseAction{
			Status: 400,
			Body: &core.DataSource{Specifier: &core.DataSource_InlineString{
				InlineString: fmt.Sprintf("unknown version in %s; known versions: %s\n", svc.PinHeader, strings.Join(names, ", ")),
			}},
		}},
	})
	weights := splitWeights(svc)
	// Stable first, then the others by name: the order does not move when weights do.
	order := append([]string{svc.Stable}, sortedExcept(names, svc.Stable)...)
	var split []*route.WeightedCluster_ClusterWeight
	for _, name := range order {
		if weights[name] == 0 {
			continue
		}
		split = append(split, &route.WeightedCluster_ClusterWeight{
			Name:                 clusterName(svc, name),
			Weight:               wrapperspb.UInt32(weights[name]),
			ResponseHeadersToAdd: versionHeader(svc.PinHeader, name),
		})
	}
	routes = append(routes, &route.Route{
		Name:  svc.Name + "_split",
		Match: &route.RouteMatch{PathSpecifier: &route.RouteMatch_Prefix{Prefix: svc.Match.Prefix}},
		Action: &route.Route_Route{Route: &route.RouteAction{
			Timeout:          durationpb.New(timeout),
			RetryPolicy:      retry,
			ClusterSpecifier: &route.RouteAction_WeightedClusters{WeightedClusters: &route.WeightedCluster{Clusters: split}},
		}},
	})
	return &route.RouteConfiguration{
		Name:         listenerName,
		VirtualHosts: []*route.VirtualHost{{Name: "*", Domains: svc.Hosts, Routes: routes}},
	}
}

func sortedExcept(names []string, except string) []string {
	var rest []string
	for _, name := range names {
		if name != except {
			rest = append(rest, name)
		}
	}
	sort.Strings(rest)
	return rest
}

func buildCluster(name string) *cluster.Cluster {
	options := &upstreamhttp.HttpProtocolOptions{
		CommonHttpProtocolOptions: &core.HttpProtocolOptions{IdleTimeout: durationpb.New(4 * time.Second)},
		UpstreamProtocolOptions: &upstreamhttp.HttpProtocolOptions_ExplicitHttpConfig_{ExplicitHttpConfig: &upstreamhttp.HttpProtocolOptions_ExplicitHttpConfig{
			ProtocolConfig: &upstreamhttp.HttpProtocolOptions_ExplicitHttpConfig_HttpProtocolOptions{HttpProtocolOptions: &core.Http1ProtocolOptions{}},
		}},
	}
	return &cluster.Cluster{
		Name:                          name,
		ClusterDiscoveryType:          &cluster.Cluster_Type{Type: cluster.Cluster_EDS},
		EdsClusterConfig:              &cluster.Cluster_EdsClusterConfig{ServiceName: name, EdsConfig: adsSource},
		ConnectTimeout:                durationpb.New(2 * time.Second),
		TypedExtensionProtocolOptions: map[string]*anypb.Any{httpOptionsKey: mustAny(options)},
	}
}

// buildResources gives the listener and, with a service, its routes, clusters and endpoints; without
// one, an empty route configuration (as sluice serves before the first service).
func buildResources(svc *service, listenerPort uint32) (resourceSet, error) {
	set := resourceSet{listeners: []types.Resource{buildListener(listenerPort)}}
	if svc == nil {
		set.routes = []types.Resource{&route.RouteConfiguration{Name: listenerName}}
		return set, nil
	}
	timeout, err := time.ParseDuration(svc.Timeout)
	if err != nil {
		return set, fmt.Errorf("timeout: %w", err)
	}
	set.routes = []types.Resource{buildRoutes(svc, timeout)}
	for _, version := range svc.Versions {
		name := clusterName(svc, version.Name)
		set.clusters = append(set.clusters, buildCluster(name))
		var lbEndpoints []*endpoint.LbEndpoint
		for _, at := range version.Endpoints {
			lbEndpoints = append(lbEndpoints, &endpoint.LbEndpoint{HostIdentifier: &endpoint.LbEndpoint_Endpoint{
				Endpoint: &endpoint.Endpoint{Address: socketAddress(at.Address, at.Port)},
			}})
		}
		set.endpoints = append(set.endpoints, &endpoint.ClusterLoadAssignment{
			ClusterName: name,
			Endpoints:   []*endpoint.LocalityLbEndpoints{{LbEndpoints: lbEndpoints}},
		})
	}
	return set, nil
}
