#include "gateway/services/admin_service.h"

#include <algorithm>
#include <cstdio>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/time_text.h"
#include "gateway/intake/payload_parsing.h"
#include "gateway/services/grpc_status.h"

namespace frontdoor::gateway {

namespace v1 = ::frontdoor::v1;

namespace {

constexpr int kMaxReplayIds = 1000;

bool IsShortId(const std::string& id) { return !id.empty() && id.size() <= 64; }

}  // namespace

absl::StatusOr<DeadLetterFilter> ReplaySelection(const v1::ReplayDeadLettersRequest& request) {
  const int selectors =
      (request.outbox_ids_size() > 0) + !request.referral_id().empty() + !request.endpoint_id().empty() + request.all();
  if (selectors != 1) {
    return absl::InvalidArgumentError("give exactly one of outbox_ids, referral_id, endpoint_id or all");
  }
  if (request.outbox_ids_size() > kMaxReplayIds) {
    return absl::InvalidArgumentError(absl::StrCat("at most ", kMaxReplayIds, " outbox_ids at once"));
  }
  if ((!request.referral_id().empty() && !IsShortId(request.referral_id())) ||
      (!request.endpoint_id().empty() && !IsShortId(request.endpoint_id()))) {
    return absl::InvalidArgumentError("referral_id and endpoint_id are 1..64 characters");
  }
  DeadLetterFilter filter;
  filter.outbox_ids.assign(request.outbox_ids().begin(), request.outbox_ids().end());
  filter.referral_id = request.referral_id();
  filter.endpoint_id = request.endpoint_id();
  return filter;
}

AdminServiceImpl::AdminServiceImpl(AdminServiceDeps deps) : deps_(std::move(deps)) {}

absl::StatusOr<Caller> AdminServiceImpl::Identify(const grpc::CallbackServerContext& context) const {
  return IdentifyAndAdmit(context, deps_.identity_source, *deps_.authorizer, deps_.admission);
}

grpc::ServerUnaryReactor* AdminServiceImpl::ListDeadLetters(grpc::CallbackServerContext* context,
                                                            const v1::ListDeadLettersRequest* request,
                                                            v1::ListDeadLettersResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<Caller> caller = Identify(*context);
  if (!caller.ok()) {
    reactor->Finish(ToGrpcStatus(caller.status()));
    return reactor;
  }
  DeadLetterFilter filter;
  filter.referral_id = request->referral_id();
  filter.endpoint_id = request->endpoint_id();
  deps_.admin->ListDeadLetters(*caller, std::move(filter),
                               static_cast<int>(std::min<uint32_t>(request->limit(), kMaxDeadLettersListed)),
                               [reactor, response](absl::StatusOr<std::vector<DeadLetterRow>> rows) {
                                 if (!rows.ok()) return reactor->Finish(ToGrpcStatus(rows.status()));
                                 for (const DeadLetterRow& row : *rows) {
                                   v1::DeadLetter* out = response->add_dead_letters();
                                   out->set_outbox_id(row.outbox_id);
                                   out->set_kind(OutboxKindName(row.kind));
                                   out->set_referral_id(row.referral_id);
                                   out->set_endpoint_id(row.endpoint_id);
                                   out->set_attempts(row.attempts);
                                   out->set_last_error(row.last_error);
                                   out->set_created_at(FormatRfc3339Utc(row.created_at, 0));
                                   out->set_dead_lettered_at(FormatRfc3339Utc(row.dead_at, 0));
                                 }
                                 reactor->Finish(grpc::Status::OK);
                               });
  return reactor;
}

grpc::ServerUnaryReactor* AdminServiceImpl::ReplayDeadLetters(grpc::CallbackServerContext* context,
                                                              const v1::ReplayDeadLettersRequest* request,
                                                              v1::ReplayDeadLettersResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<Caller> caller = Identify(*context);
  absl::Status allowed = caller.ok() ? deps_.admin->MayOperate(*caller) : caller.status();
  absl::StatusOr<DeadLetterFilter> filter = allowed.ok() ? ReplaySelection(*request) : allowed;
  if (!filter.ok()) {
    reactor->Finish(ToGrpcStatus(filter.status()));
    return reactor;
  }
  deps_.admin->Replay(*caller, *std::move(filter), request->all(), [reactor, response](absl::StatusOr<int> replayed) {
    if (replayed.ok()) response->set_replayed(static_cast<uint32_t>(*replayed));
    reactor->Finish(ToGrpcStatus(replayed.status()));
  });
  return reactor;
}

}  // namespace frontdoor::gateway
