#include "gateway/delivery/connector_transport.h"

#include <memory>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "frontdoor/v1/connector_service.grpc.pb.h"
#include "grpcpp/client_context.h"
#include "grpcpp/support/byte_buffer.h"
#include "grpcpp/support/slice.h"
#include "observability/gateway_metrics.h"

namespace frontdoor::gateway {

namespace {

// ConnectorService's methods by their full names (the generic stub calls them by name; gRPC keeps
// the pointer for the call's life).
const std::string& MethodFor(OutboxKind kind) {
  static const std::string* const deliver =
      new std::string(absl::StrCat("/", frontdoor::v1::ConnectorService::service_full_name(), "/DeliverReferral"));
  static const std::string* const cease =
      new std::string(absl::StrCat("/", frontdoor::v1::ConnectorService::service_full_name(), "/CeaseProcessing"));
  return kind == OutboxKind::kDeliver ? *deliver : *cease;
}

}  // namespace

bool IsEndpointFailure(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
    case grpc::StatusCode::INTERNAL:
    case grpc::StatusCode::UNKNOWN:
      return true;
    default:
      return false;
  }
}

ConnectorTransport::ConnectorTransport(std::shared_ptr<grpc::ChannelInterface> channel)
    : channel_(std::move(channel)), stub_(channel_) {}

std::vector<SendOutcome> ConnectorTransport::SendAll(absl::Span<const OutboxItem* const> rows,
                                                     absl::Duration deadline) {
  // The calls go out together and are answered in any order.
  struct Attempt {
    grpc::ClientContext ctx;
    grpc::ByteBuffer request;  // refers to the row's request, which outlives the call
    grpc::ByteBuffer reply;    // not read: the gateway acts on the status alone
    grpc::Status status;
  };
  // Shared with the callbacks, which may still be leaving the lock when the wait below ends.
  struct Outstanding {
    absl::Mutex mu;
    size_t calls ABSL_GUARDED_BY(mu) = 0;
  };
  auto outstanding = std::make_shared<Outstanding>();
  std::vector<std::unique_ptr<Attempt>> attempts;
  attempts.reserve(rows.size());
  {
    absl::MutexLock lock(&outstanding->mu);
    outstanding->calls = rows.size();
  }
  for (const OutboxItem* row : rows) {
    Attempt* a = attempts.emplace_back(std::make_unique<Attempt>()).get();
    a->ctx.set_deadline(absl::ToChronoTime(absl::Now() + deadline));
    grpc::Slice bytes(row->request.data(), row->request.size(), grpc::Slice::STATIC_SLICE);
    a->request = grpc::ByteBuffer(&bytes, 1);
    stub_.UnaryCall(&a->ctx, MethodFor(row->kind), grpc::StubOptions(), &a->request, &a->reply,
                    [a, outstanding](grpc::Status status) {
                      absl::MutexLock lock(&outstanding->mu);
                      a->status = std::move(status);
                      --outstanding->calls;
                    });
  }
  {
    // Every call ends by its deadline, so this wait is bounded.
    absl::MutexLock lock(&outstanding->mu);
    outstanding->mu.Await(absl::Condition(
        +[](Outstanding* o) ABSL_NO_THREAD_SAFETY_ANALYSIS { return o->calls == 0; }, outstanding.get()));
  }
  std::vector<SendOutcome> outcomes;
  outcomes.reserve(rows.size());
  for (const auto& a : attempts) {
    SendOutcome& out = outcomes.emplace_back();
    out.delivered = a->status.ok();
    out.code = observability::GrpcCodeName(static_cast<int>(a->status.error_code()));
    if (!out.delivered) {
      out.error = absl::StrCat(static_cast<int>(a->status.error_code()), " ", a->status.error_message());
      out.endpoint_failure = IsEndpointFailure(a->status.error_code());
    }
  }
  return outcomes;
}

void ConnectorTransport::ConnectNow(absl::Duration limit) {
  if (auto* real = dynamic_cast<grpc::Channel*>(channel_.get()))
    grpc::experimental::ChannelResetConnectionBackoff(real);
  const grpc_connectivity_state state = channel_->GetState(/*try_to_connect=*/true);
  if (state == GRPC_CHANNEL_TRANSIENT_FAILURE || state == GRPC_CHANNEL_IDLE) {
    channel_->WaitForStateChange(state, absl::ToChronoTime(absl::Now() + limit));
  }
}

TransportMap ConnectorTransports(const ChannelMap& channels) {
  TransportMap out;
  for (const auto& [endpoint_id, channel] : channels) out[endpoint_id] = std::make_unique<ConnectorTransport>(channel);
  return out;
}

}  // namespace frontdoor::gateway
