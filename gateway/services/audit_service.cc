#include "gateway/services/audit_service.h"

#include <algorithm>
#include <atomic>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "audit/log_verification.h"
#include "audit/merkle_tree.h"
#include "gateway/audit_log/access_records.h"
#include "gateway/services/grpc_status.h"

namespace frontdoor::gateway {

namespace v1 = ::frontdoor::v1;

namespace {

constexpr int kPageSize = 256;

absl::StatusOr<std::optional<absl::Time>> ParseOptionalTime(const std::string& text, const char* what) {
  if (text.empty()) return std::optional<absl::Time>();
  absl::Time t;
  std::string error;
  if (!absl::ParseTime(absl::RFC3339_full, text, &t, &error)) {
    return absl::InvalidArgumentError(absl::StrCat(what, " is not an RFC 3339 time (e.g. 2025-06-10T00:00:00Z)"));
  }
  return std::optional<absl::Time>(t);
}

// Streams one query's records; owns itself, deleted in OnDone. One step is in flight at a time:
// a page read on the store work queue, or the write of one record; each step starts the next.
// Nothing blocks: a slow reader holds only its own stream (one page in memory), never a thread.
// Finish is called only from a step, so the reactor outlives every job it posted.
class QueryAuditReactor final : public grpc::ServerWriteReactor<v1::AuditRecord> {
 public:
  QueryAuditReactor(AuditStore* store, StoreWorkQueue* work, AuditQuery query)
      : store_(store), work_(work), query_(std::move(query)) {}

  // Records the access (IG-9: no record, no answer), then streams.
  void Start(std::function<absl::Status()> record_access) {
    work_->Post([this, record_access = std::move(record_access)](absl::Status ready) {
      if (ready.ok()) ready = record_access();
      if (!ready.ok()) return Finish(ToGrpcStatus(ready));
      ReadPage();
    });
  }
  void FinishNow(const grpc::Status& status) { Finish(status); }

  void OnWriteDone(bool ok) override {
    if (!ok || cancelled_.load()) return Finish(grpc::Status::CANCELLED);
    WriteNext();
  }
  void OnCancel() override { cancelled_.store(true); }
  void OnDone() override { delete this; }

 private:
  // On a store work thread.
  void ReadPage() {
    if (cancelled_.load()) return Finish(grpc::Status::CANCELLED);
    absl::StatusOr<std::vector<v1::AuditRecord>> page = store_->QueryAudit(query_, after_, kPageSize);
    if (!page.ok()) return Finish(ToGrpcStatus(page.status()));
    last_page_ = static_cast<int>(page->size()) < kPageSize;
    page_ = *std::move(page);
    next_ = 0;
    WriteNext();
  }

  void WriteNext() {
    if (next_ < page_.size()) {
      after_ = static_cast<int64_t>(page_[next_].index());
      StartWrite(&page_[next_++]);
      return;
    }
    if (last_page_) return Finish(grpc::Status::OK);
    work_->Post([this](absl::Status ready) {
      if (!ready.ok()) return Finish(ToGrpcStatus(ready));
      ReadPage();
    });
  }

  AuditStore* const store_;
  StoreWorkQueue* const work_;
  const AuditQuery query_;
  std::vector<v1::AuditRecord> page_;
  size_t next_ = 0;
  int64_t after_ = -1;
  bool last_page_ = false;
  std::atomic<bool> cancelled_{false};
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
  auto* reactor = new QueryAuditReactor(deps_.store, deps_.work, query.ok() ? *query : AuditQuery{});
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
  std::optional<v1::SignedCheckpoint> kept;
  if (request->has_kept_checkpoint()) kept = request->kept_checkpoint();
  deps_.work->Post([this, reactor, response, kept = std::move(kept), record = std::move(record)](absl::Status ready) {
    if (!ready.ok()) return reactor->Finish(ToGrpcStatus(ready));
    // What is recorded so far is signed first: the answer's latest_checkpoint then covers the whole
    // log, which is what an IG officer keeps (a failure to sign shows in the verification itself).
    (void)deps_.checkpointer->CheckpointNow();
    absl::StatusOr<std::vector<audit::StoredLeaf>> leaves = deps_.store->ReadAuditLeaves();
    absl::StatusOr<std::vector<v1::SignedCheckpoint>> checkpoints =
        leaves.ok() ? deps_.store->AuditCheckpoints() : leaves.status();
    absl::Status s = checkpoints.ok() ? RecordAccess(record) : checkpoints.status();
    if (!s.ok()) {
      reactor->Finish(ToGrpcStatus(s));
      return;
    }
    VerifyLog(*leaves, *std::move(checkpoints), kept, response);
    reactor->Finish(grpc::Status::OK);
  });
  return reactor;
}

void AuditServiceImpl::VerifyLog(const std::vector<audit::StoredLeaf>& leaves,
                                 std::vector<v1::SignedCheckpoint> checkpoints,
                                 const std::optional<v1::SignedCheckpoint>& kept, v1::VerifyAuditResponse* response) {
  // The latest checkpoint this gateway signed counts even when the store no longer holds it: it
  // is kept outside the store too, so records removed with their checkpoints are still found.
  std::optional<v1::SignedCheckpoint> latest = deps_.checkpointer->LatestKnown();
  if (latest.has_value() && std::none_of(checkpoints.begin(), checkpoints.end(), [&](const v1::SignedCheckpoint& c) {
        return c.tree_size() == latest->tree_size() && c.root_hash_hex() == latest->root_hash_hex();
      })) {
    checkpoints.push_back(*latest);
    std::sort(checkpoints.begin(), checkpoints.end(),
              [](const auto& a, const auto& b) { return a.tree_size() < b.tree_size(); });
  }
  const AuditPolicy& policy = deps_.checkpointer->policy();
  *response = audit::VerifyAuditLog(leaves, checkpoints, deps_.checkpointer->PublicKeyPem(),
                                    audit::RetentionCheck{deps_.clock->Now(), policy.retention});
  if (latest.has_value()) *response->mutable_latest_checkpoint() = *latest;
  if (!kept.has_value()) return;
  absl::StatusOr<std::vector<std::string>> path =
      latest.has_value()
          ? audit::ProveLogExtends(leaves, *kept, *latest, deps_.checkpointer->PublicKeyPem())
          : absl::StatusOr<std::vector<std::string>>(absl::DataLossError("the gateway has signed no checkpoint"));
  if (path.ok()) {
    for (std::string& hex : *path) response->add_consistency_path_hex(std::move(hex));
    return;
  }
  // The kept checkpoint outranks what the store says of itself.
  response->set_verified(false);
  response->set_first_bad_index(std::min<uint64_t>(kept->tree_size(), leaves.size()));
  response->set_message(absl::StrCat("against the checkpoint you kept (", kept->tree_size(), " records, signed ",
                                     kept->time(), "): ", path.status().message()));
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
  deps_.work->Post([this, reactor, response, index, access = std::move(access)](absl::Status ready) {
    if (!ready.ok()) return reactor->Finish(ToGrpcStatus(ready));
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
