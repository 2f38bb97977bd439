#include "gateway/audit_log/audit_reader.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "audit/log_verification.h"
#include "audit/merkle_tree.h"
#include "gateway/audit_log/access_records.h"

namespace frontdoor::gateway {

namespace v1 = ::frontdoor::v1;

namespace {

absl::StatusOr<std::optional<absl::Time>> ParseOptionalTime(const std::string& text, const char* what) {
  if (text.empty()) return std::optional<absl::Time>();
  absl::Time t;
  std::string error;
  if (!absl::ParseTime(absl::RFC3339_full, text, &t, &error)) {
    return absl::InvalidArgumentError(absl::StrCat(what, " is not an RFC 3339 time (e.g. 2025-06-10T00:00:00Z)"));
  }
  return std::optional<absl::Time>(t);
}

}  // namespace

absl::StatusOr<AuditQuery> AuditQueryFrom(const v1::QueryAuditRequest& r) {
  for (const std::string* f : {&r.nhs_number(), &r.recipient_endpoint(), &r.referrer_ods(), &r.rule_id(), &r.outcome(),
                               &r.action(), &r.from_time(), &r.to_time()}) {
    if (f->size() > 64) return absl::InvalidArgumentError("a filter is longer than 64 characters");
  }
  AuditQuery q;
  q.nhs_number = r.nhs_number();
  q.recipient_endpoint = r.recipient_endpoint();
  q.referrer_ods = r.referrer_ods();
  q.rule_id = r.rule_id();
  q.outcome = r.outcome();
  q.action = r.action();
  absl::StatusOr<std::optional<absl::Time>> from = ParseOptionalTime(r.from_time(), "from_time");
  if (!from.ok()) return from.status();
  absl::StatusOr<std::optional<absl::Time>> to = ParseOptionalTime(r.to_time(), "to_time");
  if (!to.ok()) return to.status();
  q.from = *from;
  q.to = *to;
  return q;
}

AuditReader::AuditReader(AuditReaderDeps deps) : deps_(std::move(deps)) {}

absl::StatusOr<AuditQuery> AuditReader::Admit(const Caller& caller, const v1::QueryAuditRequest& request) const {
  if (absl::Status s = deps_.authorizer->MayReadAudit(caller); !s.ok()) return s;
  return AuditQueryFrom(request);
}

absl::Status AuditReader::RecordAccess(v1::AuditRecord record) const {
  return AppendAccessRecord(deps_.store, deps_.checkpointer, std::move(record));
}

v1::AuditRecord AuditReader::SearchRecord(const Caller& caller, const v1::QueryAuditRequest& request,
                                          const std::string& purpose) const {
  v1::AuditRecord record = QueryAuditRecord(request, caller, deps_.clock->Now());
  if (!purpose.empty()) record.set_detail(absl::StrCat(record.detail(), " (", purpose, ")"));
  return record;
}

void AuditReader::Search(const Caller& caller, const v1::QueryAuditRequest& request, int64_t after_index, int limit,
                         const std::string& purpose, Done<std::vector<v1::AuditRecord>> done) const {
  absl::StatusOr<AuditQuery> query = Admit(caller, request);
  if (!query.ok()) return done(query.status());
  v1::AuditRecord access = SearchRecord(caller, request, purpose);
  deps_.work->Post([this, query = *std::move(query), access = std::move(access), after_index, limit,
                    done = std::move(done)](absl::Status ready) {
    if (ready.ok()) ready = RecordAccess(access);
    if (!ready.ok()) return done(ready);
    done(deps_.store->QueryAudit(query, after_index, limit));
  });
}

void AuditReader::Verify(const Caller& caller, std::optional<v1::SignedCheckpoint> kept,
                         Done<v1::VerifyAuditResponse> done) const {
  if (absl::Status s = deps_.authorizer->MayReadAudit(caller); !s.ok()) return done(s);
  v1::AuditRecord access = QueryAuditRecord(v1::QueryAuditRequest(), caller, deps_.clock->Now());
  access.set_detail("verify the whole audit log");
  deps_.work->Post(
      [this, kept = std::move(kept), access = std::move(access), done = std::move(done)](absl::Status ready) {
        if (!ready.ok()) return done(ready);
        // What is recorded so far is signed first: the answer's latest_checkpoint then covers the
        // whole log, which is what an IG officer keeps (a failure to sign shows in the verification).
        (void)deps_.checkpointer->CheckpointNow();
        absl::StatusOr<std::vector<audit::StoredLeaf>> leaves = deps_.store->ReadAuditLeaves();
        absl::StatusOr<std::vector<v1::SignedCheckpoint>> checkpoints =
            leaves.ok() ? deps_.store->AuditCheckpoints() : leaves.status();
        absl::Status s = checkpoints.ok() ? RecordAccess(access) : checkpoints.status();
        if (!s.ok()) return done(s);
        done(VerifyLog(*leaves, *std::move(checkpoints), kept));
      });
}

v1::VerifyAuditResponse AuditReader::VerifyLog(const std::vector<audit::StoredLeaf>& leaves,
                                               std::vector<v1::SignedCheckpoint> checkpoints,
                                               const std::optional<v1::SignedCheckpoint>& kept) const {
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
  v1::VerifyAuditResponse response = audit::VerifyAuditLog(leaves, checkpoints, deps_.checkpointer->PublicKeyPem(),
                                                           audit::RetentionCheck{deps_.clock->Now(), policy.retention});
  if (latest.has_value()) *response.mutable_latest_checkpoint() = *latest;
  if (!kept.has_value()) return response;
  absl::StatusOr<std::vector<std::string>> path =
      latest.has_value()
          ? audit::ProveLogExtends(leaves, *kept, *latest, deps_.checkpointer->PublicKeyPem())
          : absl::StatusOr<std::vector<std::string>>(absl::DataLossError("the gateway has signed no checkpoint"));
  if (path.ok()) {
    for (std::string& hex : *path) response.add_consistency_path_hex(std::move(hex));
    return response;
  }
  // The kept checkpoint outranks what the store says of itself.
  response.set_verified(false);
  response.set_first_bad_index(std::min<uint64_t>(kept->tree_size(), leaves.size()));
  response.set_message(absl::StrCat("against the checkpoint you kept (", kept->tree_size(), " records, signed ",
                                    kept->time(), "): ", path.status().message()));
  return response;
}

void AuditReader::Prove(const Caller& caller, uint64_t index, Done<v1::AuditInclusionProof> done) const {
  if (absl::Status s = deps_.authorizer->MayReadAudit(caller); !s.ok()) return done(s);
  v1::AuditRecord access = QueryAuditRecord(v1::QueryAuditRequest(), caller, deps_.clock->Now());
  access.set_detail(absl::StrCat("inclusion proof of record ", index));
  deps_.work->Post([this, index, access = std::move(access), done = std::move(done)](absl::Status ready) {
    if (!ready.ok()) return done(ready);
    done(ProveNow(index, access));
  });
}

absl::StatusOr<v1::AuditInclusionProof> AuditReader::ProveNow(uint64_t index, v1::AuditRecord access) const {
  absl::StatusOr<std::optional<v1::AuditRecord>> record = deps_.store->GetAuditRecord(index);
  if (!record.ok()) return record.status();
  if (!record->has_value()) return absl::NotFoundError(absl::StrCat("there is no audit record ", index));
  if ((*record)->pruned()) {
    return absl::FailedPreconditionError(
        "that record's body was pruned under the retention policy; only its leaf hash remains");
  }
  if (absl::Status s = RecordAccess(std::move(access)); !s.ok()) return s;
  absl::StatusOr<v1::SignedCheckpoint> checkpoint = deps_.checkpointer->CheckpointNow();
  if (!checkpoint.ok()) return checkpoint.status();
  absl::StatusOr<std::vector<audit::Hash>> hashes = deps_.store->AuditLeafHashes(0, checkpoint->tree_size());
  if (!hashes.ok()) return hashes.status();
  v1::AuditInclusionProof proof;
  *proof.mutable_record() = **record;
  proof.set_leaf_index(index);
  proof.set_tree_size(checkpoint->tree_size());
  for (const audit::Hash& h : audit::InclusionProof(*hashes, index)) proof.add_audit_path_hex(audit::ToHex(h));
  *proof.mutable_checkpoint() = *checkpoint;
  return proof;
}

absl::StatusOr<std::string> AuditReader::PublicKeyPem(const Caller& caller) const {
  if (absl::Status s = deps_.authorizer->MayReadAudit(caller); !s.ok()) return s;
  return deps_.checkpointer->PublicKeyPem();
}

}  // namespace frontdoor::gateway
