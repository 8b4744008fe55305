package research_test

import (
	"bytes"
	"context"
	"io"
	"slices"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/cari-search/cari/internal/chattest"
	cariv1 "github.com/cari-search/cari/proto/cari/v1"
	"github.com/cari-search/cari/server/internal/servertest"
	"github.com/cari-search/cari/server/research"
)

// researchClient dials the server's gRPC side.
func researchClient(t *testing.T, addr string) cariv1.ResearchServiceClient {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return cariv1.NewResearchServiceClient(conn)
}

// withKey is a context whose calls send key, under a deadline.
func withKey(t *testing.T, key string) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return metadata.AppendToOutgoingContext(ctx, "x-api-key", key)
}

// watch reads a WatchTask stream to its end: the event types, and the
// task it ends with.
func watch(t *testing.T, stream cariv1.ResearchService_WatchTaskClient) ([]string, *cariv1.ResearchTask) {
	t.Helper()
	var types []string
	var last *cariv1.ResearchTask
	for {
		msg, err := stream.Recv()
		if err == io.EOF {
			return types, last
		}
		if err != nil {
			t.Fatalf("watch: %v", err)
		}
		if last != nil {
			t.Fatalf("a message after the task: %v", msg)
		}
		if ev := msg.GetEvent(); ev != nil {
			types = append(types, ev.GetEventType())
		}
		last = msg.GetTask()
	}
}

// TestGRPCResearch creates a task over gRPC and follows its events to
// the end, behind the whole server's keys: another key sees nothing of it.
func TestGRPCResearch(t *testing.T) {
	chat := chattest.Start(t,
		chattest.ToolCalls("", chattest.ToolCall{ID: "c1", Name: "search", Arguments: `{"query":"volcano magma"}`}),
		chattest.Reply("Gas pressure drives an eruption [1]."),
	)
	url, addr := startServer(t, chat)
	c := researchClient(t, addr)
	ctx := withKey(t, searchKey)

	if _, err := c.CreateTask(context.Background(), &cariv1.CreateResearchTaskRequest{Instructions: "Why?"}); status.Code(err) != codes.Unauthenticated {
		t.Errorf("without a key: %v, want UNAUTHENTICATED", err)
	}
	if _, err := c.CreateTask(ctx, &cariv1.CreateResearchTaskRequest{}); status.Code(err) != codes.InvalidArgument {
		t.Errorf("without instructions: %v, want INVALID_ARGUMENT", err)
	}
	task, err := c.CreateTask(ctx, &cariv1.CreateResearchTaskRequest{Instructions: "Why do volcanoes erupt?"})
	if err != nil {
		t.Fatal(err)
	}
	if task.GetStatus() != "pending" || task.GetModel() != research.DefaultModel {
		t.Errorf("created %v", task)
	}
	id := task.GetResearchId()
	stream, err := c.WatchTask(ctx, &cariv1.WatchResearchTaskRequest{ResearchId: id})
	if err != nil {
		t.Fatal(err)
	}
	types, last := watch(t, stream)
	if last.GetStatus() != "completed" || !bytes.Contains([]byte(last.GetOutputContent()), []byte("Gas pressure")) {
		t.Fatalf("stream ended with %v", last)
	}
	if types[0] != "research-definition" || types[len(types)-1] != "research-output" || !slices.Contains(types, "plan-operation") {
		t.Errorf("events %v", types)
	}

	// The same task over HTTP: one manager.
	if r := servertest.Do(t, url, "GET", research.Path+"/"+id, "", "X-Api-Key", searchKey); r.Code != 200 || !bytes.Contains(r.Body, []byte(`"completed"`)) {
		t.Errorf("over HTTP: %d %s", r.Code, r.Body)
	}
	got, err := c.GetTask(ctx, &cariv1.GetResearchTaskRequest{ResearchId: id})
	if err != nil || len(got.GetEvents()) != len(types) {
		t.Errorf("get: %v, %d events, want %d: %v", got, len(got.GetEvents()), len(types), err)
	}
	if l, err := c.ListTasks(ctx, &cariv1.ListResearchTasksRequest{}); err != nil || len(l.GetTasks()) != 1 {
		t.Errorf("list: %v %v", l, err)
	}

	other := withKey(t, otherKey)
	if _, err := c.GetTask(other, &cariv1.GetResearchTaskRequest{ResearchId: id}); status.Code(err) != codes.NotFound {
		t.Errorf("another key's get: %v, want NOT_FOUND", err)
	}
	if l, err := c.ListTasks(other, &cariv1.ListResearchTasksRequest{}); err != nil || len(l.GetTasks()) != 0 {
		t.Errorf("another key's list: %v %v", l, err)
	}
	if _, err := c.CancelTask(other, &cariv1.CancelResearchTaskRequest{ResearchId: id}); status.Code(err) != codes.NotFound {
		t.Errorf("another key's cancel: %v, want NOT_FOUND", err)
	}
	s, err := c.WatchTask(other, &cariv1.WatchResearchTaskRequest{ResearchId: id})
	if err == nil {
		_, err = s.Recv()
	}
	if status.Code(err) != codes.NotFound {
		t.Errorf("another key's watch: %v, want NOT_FOUND", err)
	}
}

// TestGRPCResearchCancel cancels a task while a stream follows it: the
// stream ends with the canceled task.
func TestGRPCResearchCancel(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	chat := chattest.Start(t, chattest.Stall(release))
	_, addr := startServer(t, chat)
	c := researchClient(t, addr)
	ctx := withKey(t, searchKey)
	task, err := c.CreateTask(ctx, &cariv1.CreateResearchTaskRequest{Instructions: "Why do volcanoes erupt?"})
	if err != nil {
		t.Fatal(err)
	}
	stream, err := c.WatchTask(ctx, &cariv1.WatchResearchTaskRequest{ResearchId: task.GetResearchId()})
	if err != nil {
		t.Fatal(err)
	}
	if msg, err := stream.Recv(); err != nil || msg.GetEvent().GetEventType() != "research-definition" {
		t.Fatalf("first message %v, %v", msg, err)
	}
	if _, err := c.CancelTask(ctx, &cariv1.CancelResearchTaskRequest{ResearchId: task.GetResearchId()}); err != nil {
		t.Fatal(err)
	}
	if _, last := watch(t, stream); last.GetStatus() != "canceled" {
		t.Errorf("stream ended with %v, want the canceled task", last)
	}
}

// TestResearchCollectionRefused refuses at create a task on a collection
// that does not exist or that the key may not search, naming it, over
// both transports.
func TestResearchCollectionRefused(t *testing.T) {
	url, addr := startServer(t, chattest.Start(t))
	r := servertest.Do(t, url, "POST", "/c/nosuch"+research.Path, `{"instructions":"Why?"}`, "X-Api-Key", searchKey)
	if r.Code != 404 || !bytes.Contains(r.Body, []byte(`nosuch`)) || !bytes.Contains(r.Body, []byte(`"tag":"NOT_FOUND"`)) {
		t.Errorf("unknown collection: %d %s, want 404 naming it", r.Code, r.Body)
	}
	r = servertest.Do(t, url, "POST", research.Path, `{"instructions":"Why?"}`, "X-Api-Key", limitedKey)
	if r.Code != 403 || !bytes.Contains(r.Body, []byte(`default`)) || !bytes.Contains(r.Body, []byte(`"requestId"`)) {
		t.Errorf("collection the key may not use: %d %s, want 403 naming it", r.Code, r.Body)
	}
	c := researchClient(t, addr)
	_, err := c.CreateTask(withKey(t, searchKey), &cariv1.CreateResearchTaskRequest{Instructions: "Why?", Collection: "nosuch"})
	if status.Code(err) != codes.NotFound {
		t.Errorf("gRPC, unknown collection: %v, want NOT_FOUND", err)
	}
	_, err = c.CreateTask(withKey(t, limitedKey), &cariv1.CreateResearchTaskRequest{Instructions: "Why?"})
	if status.Code(err) != codes.PermissionDenied {
		t.Errorf("gRPC, collection the key may not use: %v, want PERMISSION_DENIED", err)
	}
	if r := servertest.Do(t, url, "GET", research.Path, "", "X-Api-Key", searchKey); !bytes.Contains(r.Body, []byte(`"data":[]`)) {
		t.Errorf("refused tasks were stored: %s", r.Body)
	}
}
