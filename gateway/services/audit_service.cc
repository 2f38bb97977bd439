#include "gateway/services/audit_service.h"

#include <atomic>
#include <optional>
#include <utility>

#include "gateway/services/grpc_status.h"

namespace frontdoor::gateway {

namespace v1 = ::frontdoor::v1;

namespace {

constexpr int kPageSize = 256;

// Streams one query's records; owns itself, deleted in OnDone. One step is in flight at a time:
// a page read on the store work queue, or the write of one record; each step starts the next.
// Nothing blocks: a slow reader holds only its own stream (one page in memory), never a thread.
// Finish is called only from a step, so the reactor outlives every job it posted.
class QueryAuditReactor final : public grpc::ServerWriteReactor<v1::AuditRecord> {
 public:
  QueryAuditReactor(const AuditReader* reader, StoreWorkQueue* work, AuditQuery query)
      : reader_(reader), work_(work), query_(std::move(query)) {}

  // Records the access (IG-9: no record, no answer), then streams.
  void Start(v1::AuditRecord access) {
    work_->Post([this, access = std::move(access)](absl::Status ready) mutable {
      if (ready.ok()) ready = reader_->RecordAccess(std::move(access));
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
    absl::StatusOr<std::vector<v1::AuditRecord>> page = reader_->ReadPage(query_, after_, kPageSize);
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

  const AuditReader* const reader_;
  StoreWorkQueue* const work_;
  const AuditQuery query_;
  std::vector<v1::AuditRecord> page_;
  size_t next_ = 0;
  int64_t after_ = -1;
  bool last_page_ = false;
  std::atomic<bool> cancelled_{false};
};

// Finishes a unary call with the reader's answer, copied into the response gRPC owns.
template <typename T>
AuditReader::Done<T> FinishWith(grpc::ServerUnaryReactor* reactor, T* response) {
  return [reactor, response](absl::StatusOr<T> answer) {
    if (answer.ok()) *response = *std::move(answer);
    reactor->Finish(ToGrpcStatus(answer.status()));
  };
}

}  // namespace

AuditServiceImpl::AuditServiceImpl(AuditServiceDeps deps) : deps_(std::move(deps)) {}

absl::StatusOr<Caller> AuditServiceImpl::Identify(const grpc::CallbackServerContext& context) const {
  return IdentifyAndAdmit(context, deps_.identity_source, *deps_.authorizer, deps_.admission);
}

grpc::ServerWriteReactor<v1::AuditRecord>* AuditServiceImpl::QueryAudit(grpc::CallbackServerContext* context,
                                                                        const v1::QueryAuditRequest* request) {
  absl::StatusOr<Caller> caller = Identify(*context);
  absl::StatusOr<AuditQuery> query = caller.ok() ? deps_.reader->Admit(*caller, *request) : caller.status();
  auto* reactor = new QueryAuditReactor(deps_.reader, deps_.work, query.ok() ? *query : AuditQuery{});
  if (!query.ok()) {
    reactor->FinishNow(ToGrpcStatus(query.status()));
    return reactor;
  }
  reactor->Start(deps_.reader->SearchRecord(*caller, *request, ""));
  return reactor;
}

grpc::ServerUnaryReactor* AuditServiceImpl::VerifyAudit(grpc::CallbackServerContext* context,
                                                        const v1::VerifyAuditRequest* request,
                                                        v1::VerifyAuditResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<Caller> caller = Identify(*context);
  if (!caller.ok()) {
    reactor->Finish(ToGrpcStatus(caller.status()));
    return reactor;
  }
  std::optional<v1::SignedCheckpoint> kept;
  if (request->has_kept_checkpoint()) kept = request->kept_checkpoint();
  deps_.reader->Verify(*caller, std::move(kept), FinishWith(reactor, response));
  return reactor;
}

grpc::ServerUnaryReactor* AuditServiceImpl::ProveInclusion(grpc::CallbackServerContext* context,
                                                           const v1::ProveInclusionRequest* request,
                                                           v1::AuditInclusionProof* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<Caller> caller = Identify(*context);
  if (!caller.ok()) {
    reactor->Finish(ToGrpcStatus(caller.status()));
    return reactor;
  }
  deps_.reader->Prove(*caller, request->index(), FinishWith(reactor, response));
  return reactor;
}

grpc::ServerUnaryReactor* AuditServiceImpl::GetPublicKey(grpc::CallbackServerContext* context,
                                                         const v1::GetPublicKeyRequest* request,
                                                         v1::GetPublicKeyResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<Caller> caller = Identify(*context);
  absl::StatusOr<std::string> key = caller.ok() ? deps_.reader->PublicKeyPem(*caller) : caller.status();
  if (key.ok()) response->set_public_key_pem(*key);
  reactor->Finish(ToGrpcStatus(key.status()));
  return reactor;
}

}  // namespace frontdoor::gateway
