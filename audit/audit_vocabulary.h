// The words audit records use, for whoever filters on them (the CLI's audit query, the web
// console's search form): each record's action (what happened) and outcome (how it ended).
#ifndef FRONTDOOR_AUDIT_AUDIT_VOCABULARY_H_
#define FRONTDOOR_AUDIT_AUDIT_VOCABULARY_H_

namespace frontdoor::audit {

// What happened: a referral decided, a category withheld, a delivery or cease, a withdrawal,
// feedback recorded or pushed to the referrer, a refused read, an audit query, an outcome report
// asked for, bodies pruned.
inline constexpr const char* kAuditActions[] = {"decide",   "withhold", "deliver",       "cease",
                                                "withdraw", "feedback", "feedback-push", "read",
                                                "query",    "report",   "prune"};

// How it ended: decisions (permit, refuse), disclosures, withdrawals, feedback and queries, and the
// three the gateway also writes (a feedback push delivered, a read refused, bodies pruned).
inline constexpr const char* kAuditOutcomes[] = {"permit",   "refuse", "withhold",  "deliver", "withdraw", "cease",
                                                 "feedback", "query",  "delivered", "refused", "pruned"};

}  // namespace frontdoor::audit

#endif  // FRONTDOOR_AUDIT_AUDIT_VOCABULARY_H_
