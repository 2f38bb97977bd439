// PostgresStore's reads for outcome reports (gateway/store/report_reads.h).
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "gateway/store/postgres/postgres_connection.h"
#include "gateway/store/postgres/postgres_rows.h"
#include "gateway/store/postgres/postgres_store.h"
#include "gateway/store/report_fact_rows.h"
#include "gateway/store/store_rows.h"

namespace frontdoor::gateway {

using pg::Lease;
using pg::Params;
using pg::Result;
using store_rows::FromMicros;
using store_rows::ToMicros;

namespace pg {

absl::Status AddToReportFacts(Connection& c, const StoredReferral& referral,
                              const frontdoor::v1::ReportProgressRequest& event) {
  FRONTDOOR_ASSIGN_OR_RETURN(
      Result read,
      c.Exec("SELECT facts FROM report_facts WHERE received_us = $1 AND referral_id = $2",
             Params().Int(ToMicros(referral.received_at)).Text(referral.referral_id), "read report facts"));
  if (read.rows() != 1) return absl::InternalError("the referral has no report facts");
  FRONTDOOR_ASSIGN_OR_RETURN(std::string facts, FactsWithFeedback(read.Bytes(0, 0), event, referral.received_at));
  return c
      .Exec("UPDATE report_facts SET facts = $3 WHERE received_us = $1 AND referral_id = $2",
            Params().Int(ToMicros(referral.received_at)).Text(referral.referral_id).Bytes(std::move(facts)),
            "update report facts")
      .status();
}

}  // namespace pg

absl::Status PostgresStore::RecordRejection(absl::Time received_at, const std::string& key,
                                            const frontdoor::internal::ReportFacts& facts) {
  FRONTDOOR_ASSIGN_OR_RETURN(Lease c, pool_->Acquire());
  return c
      ->Exec("INSERT INTO report_facts (received_us, referral_id, facts) VALUES ($1, $2, $3)",
             Params().Int(ToMicros(received_at)).Text(key).Bytes(facts.SerializeAsString()), "record a rejection")
      .status();
}

absl::Status PostgresStore::ForEachReferralReceived(absl::Time from, absl::Time to,
                                                    const std::function<void(const ReportRow&)>& each) {
  FRONTDOOR_ASSIGN_OR_RETURN(Lease c, pool_->Acquire());
  // A cursor in a read-only transaction (one snapshot), read a batch at a time in binary (the
  // facts arrive as their bytes, not as hex): memory stays bounded, and the server reads the next
  // batch while this thread hands the last one on. The bounds are integers of ours, not input.
  FRONTDOOR_RETURN_IF_ERROR(c->Run("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", "begin report read"));
  // A scan in key order has nothing for the JIT compiler to speed up, only its compiling to wait for.
  FRONTDOOR_RETURN_IF_ERROR(c->Run("SET LOCAL jit = off", "begin report read"));
  bool sent = false;
  absl::Cleanup end = [&c, &sent] {
    if (sent) (void)c->Receive("finish report read");
    (void)c->Run("ROLLBACK", "end report read");
  };
  const std::string declare = absl::StrCat(
      "DECLARE report_rows NO SCROLL CURSOR FOR SELECT received_us, facts FROM report_facts WHERE received_us >= ",
      ToMicros(from), " AND received_us < ", ToMicros(to), " ORDER BY received_us, referral_id");
  FRONTDOOR_RETURN_IF_ERROR(c->Exec(declare, Params(), "declare report read").status());
  constexpr char kFetch[] = "FETCH 20000 FROM report_rows";
  FRONTDOOR_RETURN_IF_ERROR(c->SendBinary(kFetch, "read report facts"));
  sent = true;
  ReportRow row;  // filled again and again: its string keeps its memory
  for (;;) {
    sent = false;
    FRONTDOOR_ASSIGN_OR_RETURN(Result batch, c->Receive("read report facts"));
    if (batch.rows() == 0) return absl::OkStatus();
    FRONTDOOR_RETURN_IF_ERROR(c->SendBinary(kFetch, "read report facts"));
    sent = true;
    for (int i = 0; i < batch.rows(); ++i) {
      row.received_at = FromMicros(batch.BinaryInt(i, 0));
      row.facts.assign(batch.BinaryBytes(i, 1));
      each(row);
    }
  }
}

}  // namespace frontdoor::gateway
