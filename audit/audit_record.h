// The canonical bytes of an audit record: what its Merkle leaf hashes, so any change to any field
// of a stored record changes its leaf hash.
//
//   std::string bytes = CanonicalRecordBytes(record);   // record.index() included
//   Hash leaf = LeafHash(bytes);
//
// Format (version 1): the line "frontdoor-audit-record-v1\n", then one line per field in field
// number order, `name:length:value\n`, length in bytes in decimal; a repeated field gives one line
// per element; empty fields are written with length 0. The length prefix makes the encoding
// unambiguous whatever the values contain. leaf_hash_hex and pruned are not part of it (they are
// about the record, not in it). Pure; thread-safe.
#ifndef FRONTDOOR_AUDIT_AUDIT_RECORD_H_
#define FRONTDOOR_AUDIT_AUDIT_RECORD_H_

#include <string>

#include "audit/merkle_tree.h"
#include "frontdoor/v1/audit_service.pb.h"

namespace frontdoor::audit {

std::string CanonicalRecordBytes(const frontdoor::v1::AuditRecord& record);

// LeafHash(CanonicalRecordBytes(record)).
Hash RecordLeafHash(const frontdoor::v1::AuditRecord& record);

}  // namespace frontdoor::audit

#endif  // FRONTDOOR_AUDIT_AUDIT_RECORD_H_
