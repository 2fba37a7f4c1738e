package sched

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// scripted wraps a MemBackend with per-test failure scripts.
type scripted struct {
	*MemBackend
	mu        sync.Mutex
	failNodes map[string]bool              // Create fails on these nodes
	alloc     func(Allocation) Allocation  // rewrites successful allocations
	notifyErr func(n int, ch Change) error // n counts ResourceChanged calls
	deleteErr func(n int, id string) error // n counts Delete calls
	notifies  atomic.Int64
	deletes   atomic.Int64
	creates   atomic.Int64
}

func (s *scripted) Create(ctx context.Context, p Placement) (Allocation, error) {
	s.creates.Add(1)
	s.mu.Lock()
	fail := s.failNodes[p.Node]
	s.mu.Unlock()
	if fail {
		return Allocation{}, fmt.Errorf("node %s: %w", p.Node, ErrInjected)
	}
	a, err := s.MemBackend.Create(ctx, p)
	if err == nil && s.alloc != nil {
		a = s.alloc(a)
	}
	return a, err
}

func (s *scripted) Delete(ctx context.Context, id string) error {
	n := int(s.deletes.Add(1))
	if s.deleteErr != nil {
		if err := s.deleteErr(n, id); err != nil {
			return err
		}
	}
	return s.MemBackend.Delete(ctx, id)
}

func (s *scripted) ResourceChanged(ctx context.Context, ch Change) error {
	n := int(s.notifies.Add(1))
	if s.notifyErr != nil {
		if err := s.notifyErr(n, ch); err != nil {
			return err
		}
	}
	return s.MemBackend.ResourceChanged(ctx, ch)
}

func newScripted(t testing.TB, cfg MemConfig) *scripted {
	t.Helper()
	b, err := NewMemBackend(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &scripted{MemBackend: b, failNodes: map[string]bool{}}
}

var small = Resources{MilliCPU: 8000, MemoryBytes: 32 * gib, DiskBytes: 100 * gib}

func vmReq(id string, cpu int64, mem int64) Request {
	return Request{ID: id, Kind: VM, Resources: Resources{MilliCPU: cpu, MemoryBytes: mem}}
}

func ctrReq(id string, cpu int64, mem int64) Request {
	return Request{ID: id, Kind: Container, Resources: Resources{MilliCPU: cpu, MemoryBytes: mem}}
}

func TestCreateCorrectsLedgerAndNotifies(t *testing.T) {
	ctx := context.Background()
	c, vm, ctr := newTestCoordinator(t, Config{},
		MemConfig{Overhead: Resources{MemoryBytes: 256 << 20}, OverheadFraction: 0.05}, MemConfig{})
	addNodes(t, c, 3, small)

	p, err := c.Create(ctx, vmReq("vm-1", 2000, 4*gib))
	if err != nil {
		t.Fatal(err)
	}
	want := Resources{MilliCPU: 2100, MemoryBytes: 4*gib + 256<<20 + (4*gib)/20 + 1} // 5 % rounded up
	if p.Allocated != want {
		t.Fatalf("Allocated = %v, want %v", p.Allocated, want)
	}
	if p.Claim != (Resources{MilliCPU: 2000, MemoryBytes: 4 * gib}) || p.Attempt != 1 || p.NUMACell != -1 {
		t.Fatalf("placement = %+v", p)
	}
	if _, err := c.Create(ctx, ctrReq("c-1", 500, gib)); err != nil {
		t.Fatal(err)
	}
	// The ledger holds the actual VM allocation, and each manager knows the other's.
	var used Resources
	for _, n := range c.Nodes() {
		used = used.Add(n.Used)
	}
	if want := want.Add(Resources{MilliCPU: 500, MemoryBytes: gib}); used != want {
		t.Fatalf("ledger total %v, want %v", used, want)
	}
	if got := ctr.Foreign(); len(got) != 1 || got[0].ID != "vm-1" || got[0].Resources != p.Allocated {
		t.Fatalf("container manager was told %+v", got)
	}
	if got := vm.Foreign(); len(got) != 1 || got[0].ID != "c-1" {
		t.Fatalf("VM manager was told %+v", got)
	}
	checkConsistent(t, c, vm, ctr)

	if err := c.Delete(ctx, "vm-1"); err != nil {
		t.Fatal(err)
	}
	if got := ctr.Foreign(); len(got) != 0 {
		t.Fatalf("container manager still sees %+v", got)
	}
	if err := c.Delete(ctx, "vm-1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	checkConsistent(t, c, vm, ctr)
	st := c.Stats()
	if st.Placed != 2 || st.Deleted != 1 || st.Corrections != 1 || st.Workloads != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestBadInput(t *testing.T) {
	ctx := context.Background()
	vb, _ := NewMemBackend(MemConfig{Kind: VM})
	c, err := New(Config{}, vb) // no container backend
	if err != nil {
		t.Fatal(err)
	}
	addNodes(t, c, 1, small)
	if _, err := c.Create(ctx, vmReq("dup", 100, gib)); err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("x", MaxIDLen+1)
	many := map[string]string{}
	for i := range MaxLabels + 1 {
		many[fmt.Sprint(i)] = "v"
	}
	tests := []struct {
		name  string
		req   Request
		want  error
		field string
	}{
		{"negative cpu", vmReq("a", -1, gib), ErrInvalidResources, "Resources.MilliCPU"},
		{"zero cpu", vmReq("a", 0, gib), ErrInvalidResources, "Resources.MilliCPU"},
		{"zero memory", vmReq("a", 100, 0), ErrInvalidResources, "Resources.MemoryBytes"},
		{"negative disk", Request{ID: "a", Kind: VM, Resources: Resources{MilliCPU: 1, MemoryBytes: 1, DiskBytes: -5}}, ErrInvalidResources, "Resources.DiskBytes"},
		{"huge gpus", Request{ID: "a", Kind: VM, Resources: Resources{MilliCPU: 1, MemoryBytes: 1, GPUs: MaxQuantity + 1}}, ErrInvalidResources, "Resources.GPUs"},
		{"unknown kind", Request{ID: "a", Kind: 9, Resources: Resources{MilliCPU: 1, MemoryBytes: 1}}, ErrUnknownKind, "Kind"},
		{"zero kind", Request{ID: "a", Resources: Resources{MilliCPU: 1, MemoryBytes: 1}}, ErrUnknownKind, "Kind"},
		{"no backend", ctrReq("a", 100, gib), ErrNoBackend, "Kind"},
		{"empty id", vmReq("", 100, gib), ErrInvalidRequest, "ID"},
		{"long id", vmReq(long, 100, gib), ErrInvalidRequest, "ID"},
		{"duplicate id", vmReq("dup", 100, gib), ErrDuplicateID, "ID"},
		{"too many labels", Request{ID: "a", Kind: VM, Resources: Resources{MilliCPU: 1, MemoryBytes: 1}, Labels: many}, ErrInvalidRequest, "Labels"},
		{"NUL in selector", Request{ID: "a", Kind: VM, Resources: Resources{MilliCPU: 1, MemoryBytes: 1}, NodeSelector: map[string]string{"a\x00b": "c"}}, ErrInvalidRequest, "NodeSelector"},
		{"empty group", Request{ID: "a", Kind: VM, Resources: Resources{MilliCPU: 1, MemoryBytes: 1}, AntiAffinityGroups: []string{""}}, ErrInvalidRequest, "Groups"},
		{"bad toleration", Request{ID: "a", Kind: VM, Resources: Resources{MilliCPU: 1, MemoryBytes: 1}, Tolerations: []Toleration{{Effect: 7}}}, ErrInvalidRequest, "Tolerations"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Create(ctx, tt.req)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			re, ok := errors.AsType[*RequestError](err)
			if !ok || re.Field != tt.field {
				t.Fatalf("err = %#v, want *RequestError for field %s", err, tt.field)
			}
		})
	}
	if err := c.Audit(); err != nil {
		t.Fatal(err)
	}
	if got := len(c.Allocations()); got != 1 {
		t.Fatalf("%d allocations after bad input, want 1", got)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	vb, _ := NewMemBackend(MemConfig{Kind: VM})
	vb2, _ := NewMemBackend(MemConfig{Kind: VM})
	for name, fn := range map[string]func() error{
		"two VM backends": func() error { _, err := New(Config{}, vb, vb2); return err },
		"nil backend":     func() error { _, err := New(Config{}, nil); return err },
		"negative ratio":  func() error { _, err := New(Config{DefaultRatios: Ratios{CPU: -1}}, vb); return err },
		"huge ratio":      func() error { _, err := New(Config{Classes: map[string]Ratios{"x": {Memory: 1000}}}, vb); return err },
		"bad sampling":    func() error { _, err := New(Config{Sampling: 9}, vb); return err },
		"negative weight": func() error { _, err := New(Config{Weights: Weights{Spread: -1}}, vb); return err },
		"negative count":  func() error { _, err := New(Config{MaxAttempts: -1}, vb); return err },
		"negative time":   func() error { _, err := New(Config{BackendTimeout: -1}, vb); return err },
		"backend rate":    func() error { _, err := NewMemBackend(MemConfig{Kind: VM, FailureRate: 2}); return err },
		"backend latency": func() error { _, err := NewMemBackend(MemConfig{Kind: VM, Latency: -1}); return err },
	} {
		if err := fn(); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s: err = %v, want ErrInvalidConfig", name, err)
		}
	}
	if b, err := NewVMBackend(MemConfig{Kind: Container}); err != nil || b.Kind() != VM {
		t.Errorf("NewVMBackend: %v, %v", b, err)
	}
	if b, err := NewContainerBackend(MemConfig{}); err != nil || b.Kind() != Container {
		t.Errorf("NewContainerBackend: %v, %v", b, err)
	}
	if _, err := NewMemBackend(MemConfig{}); !errors.Is(err, ErrUnknownKind) {
		t.Errorf("backend without kind: %v", err)
	}
}

func TestNodeEvents(t *testing.T) {
	ctx := context.Background()
	c, vm, ctr := newTestCoordinator(t, Config{Classes: map[string]Ratios{"x": {}}}, MemConfig{}, MemConfig{})
	bad := []Node{
		{Name: "", Capacity: small},
		{Name: "a", Capacity: Resources{MilliCPU: 1}},
		{Name: "a", Capacity: Resources{MilliCPU: -1, MemoryBytes: 1}},
		{Name: "a", Capacity: small, Class: "nope"},
		{Name: "a", Capacity: small, Taints: []Taint{{Key: "k"}}},
		{Name: "a", Capacity: small, Labels: map[string]string{"zone": "z\x00"}},
		{Name: "a", Capacity: small, NUMA: []NUMACell{{MilliCPU: 9000, MemoryBytes: 1}}},
		{Name: "a", Capacity: small, NUMA: []NUMACell{{MilliCPU: 0, MemoryBytes: 1}}},
	}
	for _, n := range bad {
		if err := c.AddNode(ctx, n); !errors.Is(err, ErrInvalidNode) {
			t.Errorf("AddNode(%+v) = %v, want ErrInvalidNode", n, err)
		}
	}
	addNodes(t, c, 2, small)
	if err := c.AddNode(ctx, Node{Name: "node-0000", Capacity: small}); !errors.Is(err, ErrDuplicateNode) {
		t.Fatalf("duplicate node: %v", err)
	}
	if _, err := c.Create(ctx, vmReq("w", 1000, gib)); err != nil {
		t.Fatal(err)
	}
	node := c.Allocations()[0].Node
	err := c.RemoveNode(node)
	if ne, ok := errors.AsType[*NodeError](err); !ok || !errors.Is(err, ErrNodeBusy) || ne.Workloads != 1 {
		t.Fatalf("RemoveNode busy = %v", err)
	}
	ids, err := c.DrainNode(node)
	if err != nil || !cmp.Equal(ids, []string{"w"}) {
		t.Fatalf("DrainNode = %v, %v", ids, err)
	}
	// New work avoids the draining node.
	p, err := c.Create(ctx, vmReq("w2", 1000, gib))
	if err != nil || p.Node == node {
		t.Fatalf("placement on draining node: %+v, %v", p, err)
	}
	v, _ := c.Explain(vmReq("x", 1, 1))
	for _, nv := range v {
		if (nv.Node == node) != (nv.Filter == FilterSchedulable) {
			t.Fatalf("explain %+v", nv)
		}
	}
	if err := c.Delete(ctx, "w"); err != nil {
		t.Fatal(err)
	}
	if err := c.RemoveNode(node); err != nil {
		t.Fatal(err)
	}
	for _, err := range []error{c.RemoveNode(node), c.ResumeNode(ctx, node)} {
		if !errors.Is(err, ErrUnknownNode) {
			t.Fatalf("unknown node: %v", err)
		}
	}
	if _, err := c.DrainNode(node); !errors.Is(err, ErrUnknownNode) {
		t.Fatalf("drain unknown node: %v", err)
	}
	// The freed slot is reused.
	if err := c.AddNode(ctx, Node{Name: "fresh", Class: "x", Capacity: small}); err != nil {
		t.Fatal(err)
	}
	if got := len(c.Nodes()); got != 2 {
		t.Fatalf("%d nodes", got)
	}
	checkConsistent(t, c, vm, ctr)
}

func TestRatiosPerClass(t *testing.T) {
	ctx := context.Background()
	c, vm, ctr := newTestCoordinator(t, Config{Classes: map[string]Ratios{"dense": {CPU: 4, Memory: 1.5}}}, MemConfig{}, MemConfig{})
	if err := c.AddNode(ctx, Node{Name: "d", Class: "dense", Capacity: Resources{MilliCPU: 2000, MemoryBytes: 8 * gib}}); err != nil {
		t.Fatal(err)
	}
	if got := c.Nodes()[0].Allocatable; got != (Resources{MilliCPU: 8000, MemoryBytes: 12 * gib}) {
		t.Fatalf("allocatable %v", got)
	}
	for i := range 8 {
		if _, err := c.Create(ctx, ctrReq(fmt.Sprint(i), 1000, gib)); err != nil {
			t.Fatalf("placement %d within CPU ratio 4: %v", i, err)
		}
	}
	_, err := c.Create(ctx, ctrReq("9", 1000, gib))
	pe, ok := errors.AsType[*PlacementError](err)
	if !ok || !errors.Is(err, ErrNoCapacity) || pe.Rejected[FilterResources] != 1 {
		t.Fatalf("over ratio: %v", err)
	}
	if !strings.Contains(err.Error(), "resources:1") {
		t.Fatalf("error text %q", err)
	}
	checkConsistent(t, c, vm, ctr)
}

func TestExplainFilters(t *testing.T) {
	ctx := context.Background()
	c, _, _ := newTestCoordinator(t, Config{}, MemConfig{}, MemConfig{})
	nodes := []Node{
		{Name: "a-ok", Capacity: small, Labels: map[string]string{"zone": "z1"}, NUMA: []NUMACell{{4000, 16 * gib}, {4000, 16 * gib}}},
		{Name: "b-zone", Capacity: small, Labels: map[string]string{"zone": "z2"}},
		{Name: "c-nolabel", Capacity: small},
		{Name: "d-taint", Capacity: small, Labels: map[string]string{"zone": "z1"}, Taints: []Taint{{Key: "hsm", Value: "yes", Effect: TaintNoSchedule}}},
		{Name: "e-small", Capacity: Resources{MilliCPU: 1000, MemoryBytes: gib}, Labels: map[string]string{"zone": "z1"}},
		{Name: "f-nonuma", Capacity: small, Labels: map[string]string{"zone": "z1"}},
		{Name: "g-anti", Capacity: small, Labels: map[string]string{"zone": "z1", "role": "anti"}, NUMA: []NUMACell{{8000, 32 * gib}}},
	}
	for _, n := range nodes {
		if err := c.AddNode(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	seed := Request{ID: "seed", Kind: VM, Resources: Resources{MilliCPU: 100, MemoryBytes: gib},
		NodeSelector: map[string]string{"role": "anti"}, AntiAffinityGroups: []string{"switch"}}
	if p, err := c.Create(ctx, seed); err != nil || p.Node != "g-anti" {
		t.Fatalf("seed: %+v %v", p, err)
	}
	r := Request{ID: "q", Kind: VM, Resources: Resources{MilliCPU: 2000, MemoryBytes: 4 * gib},
		NodeSelector: map[string]string{"zone": "z1"}, PinNUMA: true, AntiAffinityGroups: []string{"switch"}}
	got, err := c.Explain(r)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"a-ok": "", "b-zone": FilterSelector, "c-nolabel": FilterSelector,
		"d-taint": FilterTaints, "e-small": FilterResources, "f-nonuma": FilterNUMA, "g-anti": FilterAntiAffinity}
	for _, v := range got {
		if v.Filter != want[v.Node] {
			t.Errorf("%s: filter %q (%s), want %q", v.Node, v.Filter, v.Reason, want[v.Node])
		}
		if v.Filter != "" && v.Reason == "" {
			t.Errorf("%s: no reason", v.Node)
		}
		if v.Filter == "" && v.Score <= 0 {
			t.Errorf("%s: feasible with score %v", v.Node, v.Score)
		}
	}
	if len(got) != len(nodes) {
		t.Fatalf("%d verdicts", len(got))
	}
	reasons := map[string]string{}
	for _, v := range got {
		reasons[v.Node] = v.Reason
	}
	for node, frag := range map[string]string{"b-zone": `"zone" is "z2"`, "c-nolabel": `"zone" missing`,
		"d-taint": "hsm=yes:NoSchedule", "e-small": "cpu: needs 2000m, 1000m free; memory: needs 4GiB, 1GiB free", "g-anti": `"switch" has 1`} {
		if !strings.Contains(reasons[node], frag) {
			t.Errorf("%s reason %q lacks %q", node, reasons[node], frag)
		}
	}
	// With a toleration the tainted node becomes feasible.
	r.Tolerations = []Toleration{{Key: "hsm", Exists: true}}
	got, _ = c.Explain(r)
	for _, v := range got {
		if v.Node == "d-taint" && v.Filter != FilterNUMA {
			t.Errorf("tolerated taint: %+v", v)
		}
	}
	if _, err := c.Explain(Request{ID: "bad", Kind: VM}); !errors.Is(err, ErrInvalidResources) {
		t.Fatalf("explain bad request: %v", err)
	}
}

func TestTolerationMatching(t *testing.T) {
	taint := Taint{Key: "k", Value: "v", Effect: TaintNoSchedule}
	tests := []struct {
		tol  Toleration
		want bool
	}{
		{Toleration{Key: "k", Value: "v"}, true},
		{Toleration{Key: "k", Value: "w"}, false},
		{Toleration{Key: "k", Exists: true}, true},
		{Toleration{Exists: true}, true},
		{Toleration{}, false},
		{Toleration{Key: "k", Value: "v", Effect: TaintPreferNoSchedule}, false},
		{Toleration{Key: "k", Value: "v", Effect: TaintNoSchedule}, true},
		{Toleration{Key: "j", Exists: true}, false},
	}
	for _, tt := range tests {
		if got := tt.tol.Tolerates(taint); got != tt.want {
			t.Errorf("%+v tolerates %+v = %v", tt.tol, taint, got)
		}
	}
}

func TestBestFitAndSpread(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name string
		w    Weights
		want string
	}{
		{"best fit", Weights{BestFit: 1}, "node-0000"},
		{"spread", Weights{Spread: 1}, "node-0001"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, _, _ := newTestCoordinator(t, Config{Weights: tt.w, Sampling: SampleFull}, MemConfig{}, MemConfig{})
			addNodes(t, c, 2, small)
			// Make node-0000 the fuller one.
			for i := range 2 {
				if _, err := c.Create(ctx, Request{ID: fmt.Sprint("seed", i), Kind: VM,
					Resources:    Resources{MilliCPU: 4000, MemoryBytes: 16 * gib},
					NodeSelector: nil, AntiAffinityGroups: []string{fmt.Sprint("g", i)}}); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := c.Create(ctx, vmReq("fill", 2000, 8*gib)); err != nil {
				t.Fatal(err)
			}
			full := c.Allocations()
			var fuller string
			for _, a := range full {
				if a.ID == "fill" {
					fuller = a.Node
				}
			}
			p, err := c.Create(ctx, vmReq("probe", 1000, 2*gib))
			if err != nil {
				t.Fatal(err)
			}
			wantNode := fuller
			if tt.w.Spread > 0 {
				for _, n := range c.Nodes() {
					if n.Node.Name != fuller {
						wantNode = n.Node.Name
					}
				}
			}
			if p.Node != wantNode {
				t.Fatalf("placed on %s, want %s", p.Node, wantNode)
			}
		})
	}
}

func TestPreferNoSchedulePenalty(t *testing.T) {
	ctx := context.Background()
	c, _, _ := newTestCoordinator(t, Config{Sampling: SampleFull}, MemConfig{}, MemConfig{})
	_ = c.AddNode(ctx, Node{Name: "tainted", Capacity: small, Taints: []Taint{{Key: "legacy", Effect: TaintPreferNoSchedule}}})
	_ = c.AddNode(ctx, Node{Name: "clean", Capacity: small.Add(small)})
	p, err := c.Create(ctx, vmReq("a", 1000, gib))
	if err != nil || p.Node != "clean" {
		t.Fatalf("%+v %v: best fit should lose to the taint penalty", p, err)
	}
	r := vmReq("b", 1000, gib)
	r.Tolerations = []Toleration{{Key: "legacy", Exists: true}}
	if p, err := c.Create(ctx, r); err != nil || p.Node != "tainted" {
		t.Fatalf("%+v %v: tolerating request should prefer the fuller fit", p, err)
	}
}

func TestAffinityGroups(t *testing.T) {
	ctx := context.Background()
	c, vm, ctr := newTestCoordinator(t, Config{}, MemConfig{}, MemConfig{})
	addNodes(t, c, 4, small)
	// Anti-affinity: one member per node, the fifth does not fit.
	seen := map[string]bool{}
	for i := range 4 {
		r := ctrReq(fmt.Sprint("hsm-", i), 100, gib)
		r.AntiAffinityGroups = []string{"hsm"}
		p, err := c.Create(ctx, r)
		if err != nil || seen[p.Node] {
			t.Fatalf("anti-affinity member %d: %+v %v", i, p, err)
		}
		seen[p.Node] = true
	}
	r := ctrReq("hsm-4", 100, gib)
	r.AntiAffinityGroups = []string{"hsm"}
	if _, err := c.Create(ctx, r); !errors.Is(err, ErrNoCapacity) {
		t.Fatalf("fifth anti-affinity member: %v", err)
	}
	// Affinity: every member joins the first.
	var first string
	for i := range 5 {
		r := vmReq(fmt.Sprint("sw-", i), 1000, 2*gib)
		r.AffinityGroups = []string{"switch"}
		p, err := c.Create(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = p.Node
		} else if p.Node != first {
			t.Fatalf("affinity member %d on %s, first on %s", i, p.Node, first)
		}
	}
	// Once the group is gone, the next member may go anywhere.
	for i := range 5 {
		if err := c.Delete(ctx, fmt.Sprint("sw-", i)); err != nil {
			t.Fatal(err)
		}
	}
	checkConsistent(t, c, vm, ctr)
}

func TestNUMAPinning(t *testing.T) {
	ctx := context.Background()
	c, vm, ctr := newTestCoordinator(t, Config{DefaultRatios: Ratios{CPU: 4}}, MemConfig{}, MemConfig{})
	if err := c.AddNode(ctx, Node{Name: "n", Capacity: small, NUMA: []NUMACell{{4000, 16 * gib}, {4000, 16 * gib}}}); err != nil {
		t.Fatal(err)
	}
	cells := map[int]bool{}
	for i := range 2 {
		r := vmReq(fmt.Sprint("pin", i), 3000, 8*gib)
		r.PinNUMA = true
		p, err := c.Create(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		cells[p.NUMACell] = true
	}
	if !cells[0] || !cells[1] {
		t.Fatalf("cells used %v, want both", cells)
	}
	// Cells are not over-committed even though the node CPU ratio is 4.
	r := vmReq("pin2", 3000, 8*gib)
	r.PinNUMA = true
	_, err := c.Create(ctx, r)
	if pe, ok := errors.AsType[*PlacementError](err); !ok || pe.Rejected[FilterNUMA] != 1 {
		t.Fatalf("third pinned request: %v", err)
	}
	// Unpinned work still uses the over-committed node capacity.
	if _, err := c.Create(ctx, vmReq("loose", 20000, 8*gib)); err != nil {
		t.Fatal(err)
	}
	if got := vm.Allocations()[1].NUMACell; got < 0 {
		t.Fatalf("backend allocation lost its cell: %d", got)
	}
	checkConsistent(t, c, vm, ctr)
}

func TestAlternatesOnBackendFailure(t *testing.T) {
	ctx := context.Background()
	vm := newScripted(t, MemConfig{Kind: VM})
	ctr, _ := NewMemBackend(MemConfig{Kind: Container})
	c, err := New(Config{Sampling: SampleFull, MaxAttempts: 3}, vm, ctr)
	if err != nil {
		t.Fatal(err)
	}
	addNodes(t, c, 4, small)
	vm.failNodes["node-0000"], vm.failNodes["node-0001"] = true, true
	p, err := c.Create(ctx, vmReq("a", 1000, gib))
	if err != nil {
		t.Fatal(err)
	}
	if p.Attempt != 3 || p.Node != "node-0002" {
		t.Fatalf("placement %+v: want third attempt on node-0002", p)
	}
	vm.failNodes["node-0002"], vm.failNodes["node-0003"] = true, true
	_, err = c.Create(ctx, vmReq("b", 1000, gib))
	pe, ok := errors.AsType[*PlacementError](err)
	if !ok || !errors.Is(err, ErrBackend) || !errors.Is(err, ErrInjected) || len(pe.Attempts) != 3 {
		t.Fatalf("all attempts fail: %v", err)
	}
	if st := c.Stats(); st.Alternates != 4 || st.Failed != 1 {
		t.Fatalf("stats %+v", st)
	}
	if err := c.Audit(); err != nil {
		t.Fatal(err)
	}
	if got := len(c.Allocations()); got != 1 {
		t.Fatalf("%d allocations", got)
	}
	// The failed ID is free again.
	vm.failNodes = map[string]bool{}
	if _, err := c.Create(ctx, vmReq("b", 1000, gib)); err != nil {
		t.Fatal(err)
	}
}

func TestOverConsumptionMovesWorkload(t *testing.T) {
	ctx := context.Background()
	c, vm, ctr := newTestCoordinator(t, Config{Sampling: SampleFull},
		MemConfig{Overhead: Resources{MemoryBytes: 2 * gib}}, MemConfig{})
	_ = c.AddNode(ctx, Node{Name: "tight", Capacity: Resources{MilliCPU: 4000, MemoryBytes: 8 * gib}})
	_ = c.AddNode(ctx, Node{Name: "roomy", Capacity: Resources{MilliCPU: 16000, MemoryBytes: 64 * gib}})
	// Best fit picks "tight", where the 2 GiB overhead does not fit.
	p, err := c.Create(ctx, vmReq("vm", 4000, 8*gib))
	if err != nil {
		t.Fatal(err)
	}
	if p.Node != "roomy" || p.Attempt != 2 || p.Claim.MemoryBytes != 10*gib {
		t.Fatalf("placement %+v", p)
	}
	if st := c.Stats(); st.OverConsumed != 1 {
		t.Fatalf("stats %+v", st)
	}
	checkConsistent(t, c, vm, ctr)
}

func TestBadAllocationIsUndone(t *testing.T) {
	ctx := context.Background()
	vm := newScripted(t, MemConfig{Kind: VM})
	vm.alloc = func(a Allocation) Allocation { a.Node = "elsewhere"; return a }
	ctr, _ := NewMemBackend(MemConfig{Kind: Container})
	c, _ := New(Config{}, vm, ctr)
	addNodes(t, c, 2, small)
	_, err := c.Create(ctx, vmReq("a", 1000, gib))
	if !errors.Is(err, ErrBadAllocation) {
		t.Fatalf("err = %v", err)
	}
	if got := vm.Allocations(); len(got) != 0 {
		t.Fatalf("bad allocations left behind: %+v", got)
	}
	if err := c.Audit(); err != nil {
		t.Fatal(err)
	}
}

func TestUndoFailureKeepsLedgerExact(t *testing.T) {
	ctx := context.Background()
	vm := newScripted(t, MemConfig{Kind: VM, Overhead: Resources{MemoryBytes: 2 * gib}})
	vm.deleteErr = func(n int, id string) error {
		if n <= 5 {
			return ErrInjected
		}
		return nil
	}
	ctr, _ := NewMemBackend(MemConfig{Kind: Container})
	c, _ := New(Config{}, vm, ctr)
	_ = c.AddNode(ctx, Node{Name: "tight", Capacity: Resources{MilliCPU: 4000, MemoryBytes: 8 * gib}})
	_, err := c.Create(ctx, vmReq("vm", 4000, 8*gib))
	if !errors.Is(err, ErrBackend) || !errors.Is(err, ErrUndoFailed) || !errors.Is(err, ErrOverConsumed) || !errors.Is(err, ErrInjected) {
		t.Fatalf("err = %v", err)
	}
	// The workload exists, so the ledger records it as it is.
	if a := c.Allocations(); len(a) != 1 || a[0].Resources.MemoryBytes != 10*gib {
		t.Fatalf("ledger %+v", a)
	}
	if got := ctr.Foreign(); len(got) != 1 {
		t.Fatalf("container manager not told: %+v", got)
	}
	if err := c.Delete(ctx, "vm"); err != nil {
		t.Fatal(err)
	}
	if err := c.Audit(); err != nil {
		t.Fatal(err)
	}
	if n := c.Nodes()[0].Used; !n.IsZero() {
		t.Fatalf("used %v after delete", n)
	}
}

func TestDeleteFailures(t *testing.T) {
	ctx := context.Background()
	vm := newScripted(t, MemConfig{Kind: VM})
	ctr, _ := NewMemBackend(MemConfig{Kind: Container})
	c, _ := New(Config{}, vm, ctr)
	addNodes(t, c, 1, small)
	if _, err := c.Create(ctx, vmReq("a", 1000, gib)); err != nil {
		t.Fatal(err)
	}
	vm.deleteErr = func(int, string) error { return ErrInjected }
	err := c.Delete(ctx, "a")
	if be, ok := errors.AsType[*BackendError](err); !ok || be.Op != "delete" || !errors.Is(err, ErrBackend) {
		t.Fatalf("err = %v", err)
	}
	if len(c.Allocations()) != 1 || len(ctr.Foreign()) != 1 {
		t.Fatal("failed delete changed the ledger")
	}
	// A backend that lost the workload: ErrNotFound cleans the ledger.
	vm.deleteErr = nil
	if err := vm.MemBackend.Delete(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if err := c.Delete(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if len(c.Allocations()) != 0 || len(ctr.Foreign()) != 0 {
		t.Fatal("ledger not cleaned")
	}
	checkConsistent(t, c, vm.MemBackend, ctr)
}

func TestPendingQueue(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	var order []string
	cfg := Config{MaxPending: 2, OnPending: func(p Placement, err error) {
		mu.Lock()
		defer mu.Unlock()
		if err == nil {
			order = append(order, p.Request.ID)
		}
	}}
	c, vm, ctr := newTestCoordinator(t, cfg, MemConfig{}, MemConfig{})
	addNodes(t, c, 1, Resources{MilliCPU: 2000, MemoryBytes: 4 * gib})
	if _, err := c.Create(ctx, vmReq("big", 2000, 4*gib)); err != nil {
		t.Fatal(err)
	}
	low := ctrReq("low", 1000, gib)
	high := ctrReq("high", 1000, gib)
	high.Priority = 10
	for _, r := range []Request{low, high} {
		if _, err := c.Create(ctx, r); !errors.Is(err, ErrQueued) || !errors.Is(err, ErrNoCapacity) {
			t.Fatalf("%s: %v", r.ID, err)
		}
	}
	if _, err := c.Create(ctx, ctrReq("low", 1, 1)); !errors.Is(err, ErrDuplicateID) {
		t.Fatalf("pending ID reused: %v", err)
	}
	if _, err := c.Create(ctx, ctrReq("third", 1000, gib)); errors.Is(err, ErrQueued) || !errors.Is(err, ErrNoCapacity) {
		t.Fatalf("queue bound: %v", err)
	}
	if got := c.Pending(); len(got) != 2 || got[0].ID != "high" {
		t.Fatalf("pending %+v", got)
	}
	if err := c.Delete(ctx, "big"); err != nil {
		t.Fatal(err)
	}
	if !cmp.Equal(order, []string{"high", "low"}) {
		t.Fatalf("retried %v", order)
	}
	if st := c.Stats(); st.Pending != 0 || st.Workloads != 2 {
		t.Fatalf("stats %+v", st)
	}
	// Deleting a pending request drops it.
	if _, err := c.Create(ctx, ctrReq("wait", 2000, gib)); !errors.Is(err, ErrQueued) {
		t.Fatal(err)
	}
	if err := c.Delete(ctx, "wait"); err != nil || len(c.Pending()) != 0 {
		t.Fatalf("delete pending: %v %v", err, c.Pending())
	}
	// A new node also triggers the retry.
	if _, err := c.Create(ctx, ctrReq("wait", 2000, gib)); !errors.Is(err, ErrQueued) {
		t.Fatal(err)
	}
	if err := c.AddNode(ctx, Node{Name: "new", Capacity: small}); err != nil {
		t.Fatal(err)
	}
	if len(c.Pending()) != 0 || order[len(order)-1] != "wait" {
		t.Fatalf("pending %v, placed %v", c.Pending(), order)
	}
	checkConsistent(t, c, vm, ctr)
}

func TestNotificationOutbox(t *testing.T) {
	ctx := context.Background()
	vm, _ := NewMemBackend(MemConfig{Kind: VM})
	ctr := newScripted(t, MemConfig{Kind: Container})
	var down atomic.Bool
	down.Store(true)
	ctr.notifyErr = func(int, Change) error {
		if down.Load() {
			return ErrInjected
		}
		return nil
	}
	var reported []*NotifyError
	c, _ := New(Config{NotifyRetries: 2, NotifyBackoff: 1, OnNotifyError: func(e *NotifyError) { reported = append(reported, e) }}, vm, ctr)
	addNodes(t, c, 2, small)
	for i := range 3 {
		if _, err := c.Create(ctx, vmReq(fmt.Sprint("vm", i), 1000, gib)); err != nil {
			t.Fatalf("create must not fail on notification: %v", err)
		}
	}
	if err := c.Delete(ctx, "vm0"); err != nil {
		t.Fatal(err)
	}
	st := c.Stats()
	if st.Outbox != 4 || st.NotifyFailures != 4 || len(reported) != 4 {
		t.Fatalf("stats %+v, reported %d", st, len(reported))
	}
	// The first change gets the full round of retries; once the manager
	// is known to be down, each later Create or Delete tries just once.
	if got := ctr.notifies.Load(); got != 3+1+1+1 {
		t.Fatalf("%d deliveries, want 1 + 2 retries, then one try per operation", got)
	}
	err := c.Flush(ctx)
	ne, ok := errors.AsType[*NotifyError](err)
	if !ok || !errors.Is(err, ErrNotifyFailed) || ne.Target != Container || ne.Change.Allocation.ID != "vm0" || ne.Change.Op != Created {
		t.Fatalf("Flush = %v", err)
	}
	down.Store(false)
	if err := c.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if got := ctr.Foreign(); len(got) != 2 || got[0].ID != "vm1" {
		t.Fatalf("container manager sees %+v", got)
	}
	checkConsistent(t, c, vm, ctr.MemBackend)
}

func TestMemBackendIgnoresReplayedChanges(t *testing.T) {
	ctx := context.Background()
	b, _ := NewMemBackend(MemConfig{Kind: Container})
	a := Allocation{ID: "x", Kind: VM, Node: "n", Resources: Resources{MilliCPU: 1, MemoryBytes: 1}}
	for _, ch := range []Change{{Seq: 1, Op: Created, Allocation: a}, {Seq: 2, Op: Deleted, Allocation: a}, {Seq: 1, Op: Created, Allocation: a}} {
		if err := b.ResourceChanged(ctx, ch); err != nil {
			t.Fatal(err)
		}
	}
	if got := b.Foreign(); len(got) != 0 {
		t.Fatalf("replayed create resurrected %+v", got)
	}
	own := Change{Seq: 3, Op: Created, Allocation: Allocation{ID: "y", Kind: Container}}
	if err := b.ResourceChanged(ctx, own); !errors.Is(err, ErrInvalidChange) {
		t.Fatalf("own-kind change: %v", err)
	}
}

func TestDeleteInProgress(t *testing.T) {
	ctx := context.Background()
	release := make(chan struct{})
	started := make(chan struct{})
	vm := newScripted(t, MemConfig{Kind: VM})
	vm.alloc = func(a Allocation) Allocation {
		close(started)
		<-release
		return a
	}
	ctr, _ := NewMemBackend(MemConfig{Kind: Container})
	c, _ := New(Config{}, vm, ctr)
	addNodes(t, c, 1, small)
	done := make(chan error)
	go func() {
		_, err := c.Create(ctx, vmReq("slow", 1000, gib))
		done <- err
	}()
	<-started
	if err := c.Delete(ctx, "slow"); !errors.Is(err, ErrInProgress) {
		t.Fatalf("delete during create: %v", err)
	}
	if err := c.RemoveNode("node-0000"); !errors.Is(err, ErrNodeBusy) {
		t.Fatalf("remove node with a claim: %v", err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := c.Delete(ctx, "slow"); err != nil {
		t.Fatal(err)
	}
}

// A request queued because its real consumption fits nowhere is retried
// with that consumption as its claim, not undone and moved again.
func TestPendingRetryKeepsLearnedClaim(t *testing.T) {
	ctx := context.Background()
	var placed []Placement
	cfg := Config{Sampling: SampleFull, MaxPending: 2, OnPending: func(p Placement, err error) {
		if err == nil {
			placed = append(placed, p)
		}
	}}
	c, vm, ctr := newTestCoordinator(t, cfg, MemConfig{Overhead: Resources{MemoryBytes: 2 * gib}}, MemConfig{})
	_ = c.AddNode(ctx, Node{Name: "tight", Capacity: Resources{MilliCPU: 4000, MemoryBytes: 8 * gib}})
	if _, err := c.Create(ctx, vmReq("vm", 4000, 8*gib)); !errors.Is(err, ErrQueued) || !errors.Is(err, ErrOverConsumed) {
		t.Fatalf("err = %v, want queued after over-consumption", err)
	}
	if err := c.AddNode(ctx, Node{Name: "roomy", Capacity: Resources{MilliCPU: 16000, MemoryBytes: 64 * gib}}); err != nil {
		t.Fatal(err)
	}
	if len(placed) != 1 || placed[0].Node != "roomy" || placed[0].Attempt != 1 || placed[0].Claim.MemoryBytes != 10*gib {
		t.Fatalf("retried placements %+v", placed)
	}
	if st := c.Stats(); st.OverConsumed != 1 {
		t.Fatalf("stats %+v: the retry over-consumed again", st)
	}
	checkConsistent(t, c, vm, ctr)
}

// While a manager is down, churn must not grow its outbox: a create and a
// delete it was never offered cancel out, and what it does get once it is
// back describes exactly the workloads that still run.
func TestOutboxCoalescesWhileManagerDown(t *testing.T) {
	ctx := context.Background()
	vm, _ := NewMemBackend(MemConfig{Kind: VM})
	ctr := newScripted(t, MemConfig{Kind: Container})
	var down atomic.Bool
	down.Store(true)
	ctr.notifyErr = func(int, Change) error {
		if down.Load() {
			return ErrInjected
		}
		return nil
	}
	c, _ := New(Config{NotifyRetries: 1, NotifyBackoff: 1}, vm, ctr)
	addNodes(t, c, 4, small)
	for _, id := range []string{"keep-1", "keep-2"} {
		if _, err := c.Create(ctx, vmReq(id, 1000, gib)); err != nil {
			t.Fatal(err)
		}
	}
	maxQ := 0
	for i := range 3000 {
		id := fmt.Sprint("churn-", i)
		if _, err := c.Create(ctx, vmReq(id, 500, gib)); err != nil {
			t.Fatal(err)
		}
		if err := c.Delete(ctx, id); err != nil {
			t.Fatal(err)
		}
		ob := c.outboxes[1]
		ob.mu.Lock()
		maxQ = max(maxQ, len(ob.q))
		ob.mu.Unlock()
	}
	if st := c.Stats(); st.Outbox != 2 {
		t.Fatalf("outbox holds %d changes after churn, want the 2 live creates", st.Outbox)
	}
	if maxQ > 200 {
		t.Fatalf("outbox grew to %d entries while holding at most 4 live ones", maxQ)
	}
	down.Store(false)
	if err := c.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	got := ctr.Foreign()
	if len(got) != 2 || got[0].ID != "keep-1" || got[1].ID != "keep-2" {
		t.Fatalf("container manager sees %+v", got)
	}
	checkConsistent(t, c, vm, ctr.MemBackend)
}

// A change that was offered to the manager (it may have applied it before
// the call failed) is never cancelled: its delete is delivered too.
func TestOutboxNeverCancelsAnOfferedChange(t *testing.T) {
	ctx := context.Background()
	vm, _ := NewMemBackend(MemConfig{Kind: VM})
	ctr := newScripted(t, MemConfig{Kind: Container})
	var down atomic.Bool
	down.Store(true)
	ctr.notifyErr = func(_ int, ch Change) error {
		if down.Load() {
			// Applied, but the acknowledgement is lost.
			_ = ctr.MemBackend.ResourceChanged(context.Background(), ch)
			return ErrInjected
		}
		return nil
	}
	c, _ := New(Config{NotifyRetries: 1, NotifyBackoff: 1}, vm, ctr)
	addNodes(t, c, 1, small)
	if _, err := c.Create(ctx, vmReq("a", 1000, gib)); err != nil {
		t.Fatal(err)
	}
	if err := c.Delete(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	down.Store(false)
	if err := c.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if got := ctr.Foreign(); len(got) != 0 {
		t.Fatalf("container manager still sees %+v", got)
	}
	checkConsistent(t, c, vm, ctr.MemBackend)
}

func TestResourcesString(t *testing.T) {
	for _, tt := range []struct {
		r    Resources
		want string
	}{
		{Resources{}, "cpu=0m mem=0 disk=0 gpu=0"},
		{Resources{MilliCPU: 4000, MemoryBytes: 8 * gib, DiskBytes: 1 << 40, GPUs: 2}, "cpu=4000m mem=8GiB disk=1TiB gpu=2"},
		{Resources{MilliCPU: 1, MemoryBytes: 1536 << 20, DiskBytes: 1 << 50}, "cpu=1m mem=1536MiB disk=1PiB gpu=0"},
		{Resources{MilliCPU: 250, MemoryBytes: 1000, DiskBytes: 3 << 10}, "cpu=250m mem=1000B disk=3KiB gpu=0"},
		{Resources{MemoryBytes: -(2 << 30)}, "cpu=0m mem=-2GiB disk=0 gpu=0"},
	} {
		if got := tt.r.String(); got != tt.want {
			t.Errorf("%#v.String() = %q, want %q", tt.r, got, tt.want)
		}
	}
}

func TestDefaultConfig(t *testing.T) {
	d := DefaultConfig()
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := (Config{}).Validate(); err != nil {
		t.Fatalf("zero Config: %v", err)
	}
	if d.MaxAttempts != 3 || d.MaxConflicts != 8 || d.SampleMin != 2 || d.Weights != (Weights{BestFit: 1, Taint: 1}) ||
		d.BackendTimeout != 30*time.Second || d.NotifyRetries != 3 || d.Rand != nil || d.Now != nil {
		t.Fatalf("DefaultConfig() = %+v", d)
	}
	// Two coordinators from one DefaultConfig do not share a random source.
	vb, _ := NewVMBackend(MemConfig{})
	var srcs []any
	for range 2 {
		c, err := New(d, vb)
		if err != nil {
			t.Fatal(err)
		}
		if c.cfg.Rand == nil || c.cfg.Now == nil {
			t.Fatal("defaults not applied")
		}
		srcs = append(srcs, c.cfg.Rand)
	}
	if srcs[0] == srcs[1] {
		t.Fatal("two coordinators share one random source")
	}
}

// gated holds every Create until released, then fails it or lets the
// MemBackend run it.
type gated struct {
	*MemBackend
	started, release chan struct{}
	fail             bool
}

func (g *gated) Create(ctx context.Context, p Placement) (Allocation, error) {
	close(g.started)
	<-g.release
	if g.fail {
		return Allocation{}, ErrInjected
	}
	return g.MemBackend.Create(ctx, p)
}

// Capacity given back by a placement — a failed attempt's claim, or an
// allocation below its claim — is a capacity event: requests queued while
// the claim was held are retried at once, not at the next Delete.
func TestReleasedClaimRetriesPending(t *testing.T) {
	for _, tt := range []struct {
		name    string
		fail    bool
		consume Resources
	}{
		{"failed create", true, Resources{}},
		{"allocation below claim", false, Resources{MilliCPU: 1000, MemoryBytes: 2 * gib}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			var placed []string
			var mu sync.Mutex
			cfg := Config{MaxAttempts: 1, MaxPending: 4, OnPending: func(p Placement, err error) {
				mu.Lock()
				defer mu.Unlock()
				if err == nil {
					placed = append(placed, p.Request.ID)
				}
			}}
			mc := MemConfig{Kind: VM}
			if !tt.consume.IsZero() {
				mc.Consume = func(Placement) Resources { return tt.consume }
			}
			mem, _ := NewMemBackend(mc)
			vm := &gated{MemBackend: mem, started: make(chan struct{}), release: make(chan struct{}), fail: tt.fail}
			ctr, _ := NewMemBackend(MemConfig{Kind: Container})
			c, _ := New(cfg, vm, ctr)
			addNodes(t, c, 1, Resources{MilliCPU: 2000, MemoryBytes: 4 * gib})
			done := make(chan error)
			go func() {
				_, err := c.Create(ctx, vmReq("holder", 2000, 4*gib))
				done <- err
			}()
			<-vm.started
			if _, err := c.Create(ctx, ctrReq("waiter", 1000, gib)); !errors.Is(err, ErrQueued) {
				t.Fatalf("waiter: %v", err)
			}
			close(vm.release)
			if err := <-done; (err != nil) != tt.fail {
				t.Fatalf("holder: %v", err)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(placed) != 1 || placed[0] != "waiter" || len(c.Pending()) != 0 {
				t.Fatalf("placed %v, pending %v: the freed capacity was not offered to the queue", placed, c.Pending())
			}
			checkConsistent(t, c, mem, ctr)
		})
	}
}

// A coordinator that replaces another against the same long-lived managers
// (a restart) must not have its changes discarded as replays.
func TestReplacementCoordinatorIsHeard(t *testing.T) {
	ctx := context.Background()
	vm, _ := NewVMBackend(MemConfig{})
	ctr, _ := NewContainerBackend(MemConfig{})
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	now := func() time.Time { return clock }
	first, _ := New(Config{Now: now}, vm, ctr)
	addNodes(t, first, 1, small)
	for i := range 5 {
		if _, err := first.Create(ctx, vmReq(fmt.Sprint("old", i), 100, gib)); err != nil {
			t.Fatal(err)
		}
	}
	clock = clock.Add(time.Second)
	second, _ := New(Config{Now: now}, vm, ctr)
	addNodes(t, second, 1, small)
	if _, err := second.Create(ctx, vmReq("new", 100, gib)); err != nil {
		t.Fatal(err)
	}
	if got := ctr.Foreign(); len(got) != 6 {
		t.Fatalf("container manager knows %d VMs, want 6: the replacement's change was dropped", len(got))
	}
}
