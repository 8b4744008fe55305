package research

import (
	"context"
	"encoding/json"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	cariv1 "github.com/cari-search/cari/proto/cari/v1"
)

// GRPC returns cari.v1.ResearchService over the same tasks as Handler.
// Register it behind the server's key check (a search key), as Handler
// is mounted.
func (s *Service) GRPC() cariv1.ResearchServiceServer { return grpcService{s: s} }

type grpcService struct {
	cariv1.UnimplementedResearchServiceServer
	s *Service
}

// grpcCaller is the caller of a call: its x-api-key and authorization
// metadata, which the tools' calls carry as the HTTP headers they are,
// and its address.
func grpcCaller(ctx context.Context) Caller {
	auth := map[string]string{}
	if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
		auth[RemoteAddrKey] = p.Addr.String()
	}
	md, _ := metadata.FromIncomingContext(ctx)
	for header, key := range map[string]string{"X-Api-Key": "x-api-key", "Authorization": "authorization"} {
		if v := md.Get(key); len(v) > 0 && v[0] != "" {
			auth[header] = v[0]
		}
	}
	return Caller{Auth: auth}
}

func (g grpcService) CreateTask(ctx context.Context, req *cariv1.CreateResearchTaskRequest) (*cariv1.ResearchTask, error) {
	cr := CreateRequest{Instructions: req.GetInstructions(), Model: req.GetModel(), Collection: req.GetCollection()}
	if sch := req.GetOutputSchemaJson(); sch != "" {
		if !json.Valid([]byte(sch)) {
			return nil, status.Error(codes.InvalidArgument, "output_schema_json: not JSON")
		}
		cr.OutputSchema = json.RawMessage(sch)
	}
	rec, err := g.s.Create(ctx, grpcCaller(ctx), cr)
	if err != nil {
		return nil, err
	}
	return protoTask(rec), nil
}

func (g grpcService) GetTask(ctx context.Context, req *cariv1.GetResearchTaskRequest) (*cariv1.ResearchTask, error) {
	rec, err := g.s.Get(grpcCaller(ctx), req.GetResearchId())
	if err != nil {
		return nil, err
	}
	return protoTask(rec), nil
}

func (g grpcService) ListTasks(ctx context.Context, req *cariv1.ListResearchTasksRequest) (*cariv1.ListResearchTasksResponse, error) {
	p, err := g.s.List(grpcCaller(ctx), req.GetCursor(), int(req.GetLimit()))
	if err != nil {
		return nil, err
	}
	resp := &cariv1.ListResearchTasksResponse{NextCursor: p.NextCursor}
	for _, rec := range p.Tasks {
		resp.Tasks = append(resp.Tasks, protoTask(rec))
	}
	return resp, nil
}

func (g grpcService) CancelTask(ctx context.Context, req *cariv1.CancelResearchTaskRequest) (*cariv1.ResearchTask, error) {
	rec, err := g.s.Cancel(grpcCaller(ctx), req.GetResearchId())
	if err != nil {
		return nil, err
	}
	return protoTask(rec), nil
}

func (g grpcService) WatchTask(req *cariv1.WatchResearchTaskRequest, stream cariv1.ResearchService_WatchTaskServer) error {
	ctx := stream.Context()
	rec, err := g.s.Watch(ctx, grpcCaller(ctx), req.GetResearchId(), func(ev Event) error {
		return stream.Send(&cariv1.WatchResearchTaskResponse{Event: protoEvent(ev)})
	})
	if err != nil {
		if _, ok := status.FromError(err); ok {
			return err
		}
		return status.FromContextError(err).Err()
	}
	return stream.Send(&cariv1.WatchResearchTaskResponse{Task: protoTask(rec)})
}

// protoTask is rec as cari.v1 has it: the fields a client switches on,
// and the whole of Exa's JSON beside them.
func protoTask(rec Record) *cariv1.ResearchTask {
	t := &cariv1.ResearchTask{ResearchId: rec.ResearchID, Status: string(rec.Status), Model: rec.Model,
		Instructions: rec.Instructions, OutputSchemaJson: string(rec.OutputSchema), Collection: rec.Collection,
		CreateTimeMs: rec.CreatedAt, FinishTimeMs: rec.FinishedAt, Error: rec.Error}
	if rec.Output != nil {
		t.OutputContent = rec.Output.Content
	}
	for _, ev := range rec.Events {
		t.Events = append(t.Events, protoEvent(ev))
	}
	rec.Events = nil
	b, _ := json.Marshal(rec) // a Record always encodes
	t.Json = string(b)
	return t
}

func protoEvent(ev Event) *cariv1.ResearchEvent {
	b, _ := json.Marshal(ev)
	return &cariv1.ResearchEvent{EventType: ev.EventType, CreateTimeMs: ev.CreatedAt, Json: string(b)}
}
