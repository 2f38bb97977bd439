// Internal to adapters/ (the FHIR adapter, fhir_referral_adapter.h): where an element sits in a
// FHIR message, as the FHIRPath its issues and ReferralSourcePaths name.
#ifndef FRONTDOOR_ADAPTERS_FHIR_ELEMENT_PATH_H_
#define FRONTDOOR_ADAPTERS_FHIR_ELEMENT_PATH_H_

#include <cstddef>
#include <cstring>
#include <string>
#include <string_view>

namespace frontdoor::adapters::fhir_internal {

// Where an element sits in the message, as a FHIRPath (`Bundle.entry[2].resource.name[0]`): a
// chain of nodes on the stack of the code reading the message, each naming its parent. It becomes
// text only when something names it (an issue, or ReferralSourcePaths), so reading the many
// elements no issue is ever raised about builds no string.
class ElementPath {
 public:
  static constexpr size_t kNoIndex = ~size_t{0};
  constexpr explicit ElementPath(std::string_view root) : parent_(nullptr), name_(root), index_(kNoIndex) {}
  // `parent` must outlive this node (a local or a temporary of the same full expression); `name`
  // is a literal.
  constexpr ElementPath(const ElementPath& parent, std::string_view name, size_t index = kNoIndex)
      : parent_(&parent), name_(name), index_(index) {}
  ElementPath(const ElementPath&) = delete;
  ElementPath& operator=(const ElementPath&) = delete;

  // Sized first, then written from the end back to the root: one allocation, no recursion. An
  // index's digits are written last to first as they are worked out (indexes are small: a digit
  // or two), with no conversion into a buffer and copy out of it.
  std::string Render() const {
    size_t size = 0;
    for (const ElementPath* node = this; node != nullptr; node = node->parent_) {
      size += node->name_.size() + (node->parent_ != nullptr ? 1 : 0);
      if (node->index_ != kNoIndex) size += 2 + DigitCount(node->index_);
    }
    std::string text(size, '\0');
    char* end = text.data() + size;
    for (const ElementPath* node = this; node != nullptr; node = node->parent_) {
      if (node->index_ != kNoIndex) {
        *--end = ']';
        size_t index = node->index_;
        do {
          *--end = static_cast<char>('0' + index % 10);
          index /= 10;
        } while (index != 0);
        *--end = '[';
      }
      end -= node->name_.size();
      std::memcpy(end, node->name_.data(), node->name_.size());
      if (node->parent_ != nullptr) *--end = '.';
    }
    return text;
  }

 private:
  static size_t DigitCount(size_t index) {
    size_t digits = 1;
    for (; index >= 10; index /= 10) ++digits;
    return digits;
  }

  const ElementPath* parent_;
  std::string_view name_;
  size_t index_;
};

inline constexpr ElementPath kBundlePath("Bundle");

// Bundle.entry[i].resource of an entry.
class ResourcePath {
 public:
  template <typename Entry>
  explicit ResourcePath(const Entry& entry)
      : entry_(kBundlePath, "entry", entry.index), resource_(entry_, "resource") {}
  ResourcePath(const ResourcePath&) = delete;
  ResourcePath& operator=(const ResourcePath&) = delete;
  const ElementPath& path() const { return resource_; }

 private:
  ElementPath entry_;
  ElementPath resource_;
};

}  // namespace frontdoor::adapters::fhir_internal

#endif  // FRONTDOOR_ADAPTERS_FHIR_ELEMENT_PATH_H_
