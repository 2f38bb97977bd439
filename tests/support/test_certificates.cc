#include "tests/support/test_certificates.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "gtest/gtest.h"

namespace frontdoor::testing {

namespace {

// Single-quoted for sh; test paths never contain a quote.
std::string Q(const std::string& s) { return "'" + s + "'"; }

void MakeCa(const std::string& dir, const std::string& name, const std::string& cn, std::string* cert,
            std::string* key) {
  *cert = dir + "/" + name + ".crt";
  *key = dir + "/" + name + ".key";
  RunShell("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout " + Q(*key) + " -out " +
           Q(*cert) + " -days 30 -subj " + Q("/CN=" + cn) +
           " -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign");
}

}  // namespace

bool RunShell(const std::string& command_line) {
  const std::string full = "(" + command_line + ") >/dev/null 2>&1";
  const int rc = std::system(full.c_str());
  if (rc != 0) ADD_FAILURE() << "command failed (" << rc << "): " << command_line;
  return rc == 0;
}

std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TestCertificates::TestCertificates(std::string dir) : dir_(std::move(dir)) {
  MakeCa(dir_, "ca", "frontdoor test CA", &ca_cert_, &ca_key_);
  MakeCa(dir_, "other-ca", "some other CA", &other_ca_cert_, &other_ca_key_);
}

IssuedCertificate TestCertificates::Issue(const std::string& common_name, const IssueOptions& options) {
  const std::string stem =
      dir_ + "/" + (options.name.empty() ? common_name + "-" + std::to_string(++issued_) : options.name);
  IssuedCertificate out{stem + ".crt", stem + ".key"};
  const std::string csr = stem + ".csr", ext = stem + ".ext";
  std::ofstream(ext) << (options.server ? "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n"
                                        : "extendedKeyUsage=clientAuth\n")
                     << "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n";
  const std::string& ca_cert = options.other_ca ? other_ca_cert_ : ca_cert_;
  const std::string& ca_key = options.other_ca ? other_ca_key_ : ca_key_;
  // Written beside the final names, then renamed, so a watcher never sees half a file.
  RunShell("openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout " + Q(out.key + ".new") +
           " -out " + Q(csr) + " -subj " + Q("/CN=" + common_name) + " && openssl x509 -req -in " + Q(csr) + " -CA " +
           Q(ca_cert) + " -CAkey " + Q(ca_key) + " -days " + (options.expired ? "-1" : "7") + " -extfile " + Q(ext) +
           " -out " + Q(out.cert + ".new") + " && mv " + Q(out.key + ".new") + " " + Q(out.key) + " && mv " +
           Q(out.cert + ".new") + " " + Q(out.cert));
  return out;
}

std::string TestCertificates::Revoke(const IssuedCertificate& certificate, const std::string& crl_dir, bool expired) {
  PublishCrl(crl_dir);  // makes the database
  RunShell("openssl ca -batch -config " + Q(ca_db_ + "/ca.cnf") + " -revoke " + Q(certificate.cert));
  return PublishCrl(crl_dir, expired);
}

std::string TestCertificates::PublishCrl(const std::string& crl_dir, bool expired) {
  if (ca_db_.empty()) {
    ca_db_ = dir_ + "/ca-db";
    RunShell("mkdir -p " + Q(ca_db_) + " && : > " + Q(ca_db_ + "/index.txt") + " && echo 01 > " +
             Q(ca_db_ + "/crlnumber"));
    std::ofstream(ca_db_ + "/ca.cnf") << "[ca]\ndefault_ca = test_ca\n[test_ca]\ndatabase = " << ca_db_
                                      << "/index.txt\ncrlnumber = " << ca_db_
                                      << "/crlnumber\ncertificate = " << ca_cert_ << "\nprivate_key = " << ca_key_
                                      << "\ndefault_md = sha256\ndefault_crl_days = 7\n";
  }
  const std::string made = ca_db_ + "/crl.pem";
  RunShell("openssl ca -batch -config " + Q(ca_db_ + "/ca.cnf") + " -gencrl -out " + Q(made) +
           (expired ? " -crl_lastupdate 20200101000000Z -crl_nextupdate 20200102000000Z" : ""));
  std::string hash;
  {
    const std::string hash_file = ca_db_ + "/crl.hash";
    RunShell("openssl crl -hash -noout -in " + Q(made) + " > " + Q(hash_file));
    hash = ReadWholeFile(hash_file);
    while (!hash.empty() && (hash.back() == '\n' || hash.back() == '\r')) hash.pop_back();
  }
  const std::string path = crl_dir + "/" + hash + ".r0";
  RunShell("mkdir -p " + Q(crl_dir) + " && cp " + Q(made) + " " + Q(path + ".new") + " && mv " + Q(path + ".new") +
           " " + Q(path));
  return path;
}

grpc::SslCredentialsOptions TestCertificates::ClientOptions(const IssuedCertificate& client) const {
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = ReadWholeFile(ca_cert_);
  options.pem_private_key = ReadWholeFile(client.key);
  options.pem_cert_chain = ReadWholeFile(client.cert);
  return options;
}

}  // namespace frontdoor::testing
