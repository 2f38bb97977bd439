#include "gateway/audit_service.h"

#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "audit/log_verification.h"
#include "audit/merkle_tree.h"
#include "gateway/audit_records.h"
#include "gateway/grpc_status.h"

namespace frontdoor::gateway {

namespace v1 = ::frontdoor::v1;

namespace {

constexpr int kPageSize = 256;

// Work that reads the store runs here, never on a gRPC reactor thread. The thread only touches
// the call through its reactor, whose last act (Finish) it performs.
template <typename F>
void RunOffReactorThread(F&& work) {
  std::thread(std::forward<F>(work)).detach();
}

absl::StatusOr<std::optional<absl::Time>> ParseOptionalTime(const std::string& text, const char* what) {
  if (text.empty()) return std::optional<absl::Time>();
  absl::Time t;
  std::string error;
  if (!absl::ParseTime(absl::RFC3339_full, text, &t, &error)) {
    return absl::InvalidArgumentError(absl::StrCat(what, " is not an RFC 3339 time (e.g. 2025-06-10T00:00:00Z)"));
  }
  return std::optional<absl::Time>(t);
}

// Streams one query's records; owns itself, deleted in OnDone.
class QueryAuditReactor final : public grpc::ServerWriteReactor<v1::AuditRecord> {
 public:
  QueryAuditReactor(AuditStore* store, AuditQuery query) : store_(store), query_(std::move(query)) {}

  void Start(std::function<absl::Status()> record_access) {
    RunOffReactorThread([this, record_access = std::move(record_access)] { Stream(record_access); });
  }
  void FinishNow(const grpc::Status& status) { Finish(status); }

  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    writing_ = false;
    if (!ok) cancelled_ = true;
  }
  void OnCancel() override {
    absl::MutexLock lock(&mu_);
    cancelled_ = true;
  }
  void OnDone() override { delete this; }

 private:
  void Stream(const std::function<absl::Status()>& record_access) {
    // The query is recorded before anything is shown (IG-9): no record, no answer.
    if (absl::Status s = record_access(); !s.ok()) {
      Finish(ToGrpcStatus(s));
      return;
    }
    int64_t after = -1;
    for (;;) {
      absl::StatusOr<std::vector<v1::AuditRecord>> page = store_->QueryAudit(query_, after, kPageSize);
      if (!page.ok()) {
        Finish(ToGrpcStatus(page.status()));
        return;
      }
      for (v1::AuditRecord& record : *page) {
        after = static_cast<int64_t>(record.index());
        current_ = std::move(record);
        {
          absl::MutexLock lock(&mu_);
          if (cancelled_) break;
          writing_ = true;
        }
        StartWrite(&current_);
        absl::MutexLock lock(&mu_);
        auto done = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !writing_ || cancelled_; };
        mu_.Await(absl::Condition(&done));
        if (writing_) {
          // Cancelled while a write is in flight: gRPC still calls OnWriteDone before OnDone.
          auto written = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !writing_; };
          mu_.Await(absl::Condition(&written));
        }
      }
      {
        absl::MutexLock lock(&mu_);
        if (cancelled_) break;
      }
      if (static_cast<int>(page->size()) < kPageSize) break;
    }
    bool cancelled;
    {
      absl::MutexLock lock(&mu_);
      cancelled = cancelled_;
    }
    Finish(cancelled ? grpc::Status::CANCELLED : grpc::Status::OK);
  }

  AuditStore* const store_;
  const AuditQuery query_;
  v1::AuditRecord current_;
  absl::Mutex mu_;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace

absl::StatusOr<AuditQuery> AuditQueryFrom(const v1::QueryAuditRequest& r) {
  for (const std::string* f : {&r.nhs_number(), &r.recipient_endpoint(), &r.referrer_ods(), &r.rule_id(), &r.outcome(),
                               &r.from_time(), &r.to_time()}) {
    if (f->size() > 64) return absl::InvalidArgumentError("a filter is longer than 64 characters");
  }
  AuditQuery q;
  q.nhs_number = r.nhs_number();
  q.recipient_endpoint = r.recipient_endpoint();
  q.referrer_ods = r.referrer_ods();
  q.rule_id = r.rule_id();
  q.outcome = r.outcome();
  absl::StatusOr<std::optional<absl::Time>> from = ParseOptionalTime(r.from_time(), "from_time");
  if (!from.ok()) return from.status();
  absl::StatusOr<std::optional<absl::Time>> to = ParseOptionalTime(r.to_time(), "to_time");
  if (!to.ok()) return to.status();
  q.from = *from;
  q.to = *to;
  return q;
}

AuditServiceImpl::AuditServiceImpl(AuditServiceDeps deps) : deps_(std::move(deps)) {}

absl::StatusOr<Caller> AuditServiceImpl::AuthorizeIgOfficer(const grpc::CallbackServerContext& context) const {
  absl::StatusOr<Caller> caller = IdentifyAndAdmit(context, deps_.identity_source, *deps_.authorizer, deps_.admission);
  if (!caller.ok()) return caller.status();
  if (absl::Status s = deps_.authorizer->MayReadAudit(*caller); !s.ok()) return s;
  return caller;
}

absl::Status AuditServiceImpl::RecordAccess(v1::AuditRecord record) const {
  std::vector<v1::AuditRecord> records;
  records.push_back(std::move(record));
  absl::StatusOr<std::vector<v1::AuditRecord>> appended = deps_.store->AppendAudit(std::move(records));
  if (!appended.ok()) return appended.status();
  deps_.checkpointer->Wake();
  return absl::OkStatus();
}

grpc::ServerWriteReactor<v1::AuditRecord>* AuditServiceImpl::QueryAudit(grpc::CallbackServerContext* context,
                                                                        const v1::QueryAuditRequest* request) {
  absl::StatusOr<Caller> caller = AuthorizeIgOfficer(*context);
  absl::StatusOr<AuditQuery> query = caller.ok() ? AuditQueryFrom(*request) : caller.status();
  auto* reactor = new QueryAuditReactor(deps_.store, query.ok() ? *query : AuditQuery{});
  if (!query.ok()) {
    reactor->FinishNow(ToGrpcStatus(query.status()));
    return reactor;
  }
  v1::AuditRecord record = QueryAuditRecord(*request, *caller, deps_.clock->Now());
  reactor->Start([this, record = std::move(record)] { return RecordAccess(record); });
  return reactor;
}

grpc::ServerUnaryReactor* AuditServiceImpl::VerifyAudit(grpc::CallbackServerContext* context,
                                                        const v1::VerifyAuditRequest* request,
                                                        v1::VerifyAuditResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<Caller> caller = AuthorizeIgOfficer(*context);
  if (!caller.ok()) {
    reactor->Finish(ToGrpcStatus(caller.status()));
    return reactor;
  }
  v1::AuditRecord record = QueryAuditRecord(v1::QueryAuditRequest(), *caller, deps_.clock->Now());
  record.set_detail("verify the whole audit log");
  RunOffReactorThread([this, reactor, response, record = std::move(record)] {
    absl::StatusOr<std::vector<audit::StoredLeaf>> leaves = deps_.store->ReadAuditLeaves();
    absl::StatusOr<std::vector<v1::SignedCheckpoint>> checkpoints =
        leaves.ok() ? deps_.store->AuditCheckpoints() : leaves.status();
    absl::Status s = checkpoints.ok() ? RecordAccess(record) : checkpoints.status();
    if (!s.ok()) {
      reactor->Finish(ToGrpcStatus(s));
      return;
    }
    *response = audit::VerifyAuditLog(*leaves, *checkpoints, deps_.checkpointer->PublicKeyPem());
    reactor->Finish(grpc::Status::OK);
  });
  return reactor;
}

grpc::ServerUnaryReactor* AuditServiceImpl::ProveInclusion(grpc::CallbackServerContext* context,
                                                           const v1::ProveInclusionRequest* request,
                                                           v1::AuditInclusionProof* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<Caller> caller = AuthorizeIgOfficer(*context);
  if (!caller.ok()) {
    reactor->Finish(ToGrpcStatus(caller.status()));
    return reactor;
  }
  v1::AuditRecord access = QueryAuditRecord(v1::QueryAuditRequest(), *caller, deps_.clock->Now());
  access.set_detail(absl::StrCat("inclusion proof of record ", request->index()));
  const uint64_t index = request->index();
  RunOffReactorThread([this, reactor, response, index, access = std::move(access)] {
    auto prove = [&]() -> absl::Status {
      absl::StatusOr<std::optional<v1::AuditRecord>> record = deps_.store->GetAuditRecord(index);
      if (!record.ok()) return record.status();
      if (!record->has_value()) return absl::NotFoundError(absl::StrCat("there is no audit record ", index));
      if ((*record)->pruned()) {
        return absl::FailedPreconditionError(
            "that record's body was pruned under the retention policy; only its leaf hash remains");
      }
      if (absl::Status s = RecordAccess(access); !s.ok()) return s;
      absl::StatusOr<v1::SignedCheckpoint> checkpoint = deps_.checkpointer->CheckpointNow();
      if (!checkpoint.ok()) return checkpoint.status();
      absl::StatusOr<std::vector<audit::Hash>> hashes = deps_.store->AuditLeafHashes(0, checkpoint->tree_size());
      if (!hashes.ok()) return hashes.status();
      *response->mutable_record() = **record;
      response->set_leaf_index(index);
      response->set_tree_size(checkpoint->tree_size());
      for (const audit::Hash& h : audit::InclusionProof(*hashes, index)) response->add_audit_path_hex(audit::ToHex(h));
      *response->mutable_checkpoint() = *checkpoint;
      return absl::OkStatus();
    };
    reactor->Finish(ToGrpcStatus(prove()));
  });
  return reactor;
}

grpc::ServerUnaryReactor* AuditServiceImpl::GetPublicKey(grpc::CallbackServerContext* context,
                                                         const v1::GetPublicKeyRequest* request,
                                                         v1::GetPublicKeyResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<Caller> caller = AuthorizeIgOfficer(*context);
  if (!caller.ok()) {
    reactor->Finish(ToGrpcStatus(caller.status()));
    return reactor;
  }
  response->set_public_key_pem(deps_.checkpointer->PublicKeyPem());
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

}  // namespace frontdoor::gateway
