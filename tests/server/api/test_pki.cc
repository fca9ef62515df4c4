#include "tests/server/api/test_pki.h"

#include <functional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/test_env.h"

namespace cloudlink::testing {
namespace {

absl::Status RunOpenssl(std::vector<std::string> args) {
  SubprocessOptions options;
  options.argv = {"/usr/bin/openssl"};
  options.argv.insert(options.argv.end(), args.begin(), args.end());
  absl::StatusOr<RunResult> run = Run(std::move(options), absl::Seconds(30));
  if (!run.ok()) return run.status();
  if (run->exit_code != 0) {
    return absl::InternalError(
        absl::StrCat("openssl ", args[0], " failed: ", run->err));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<TestPki> TestPki::Create(const std::string& dir,
                                        const std::string& name) {
  TestPki pki;
  pki.dir_ = dir;
  pki.name_ = name;
  pki.ca_.cert = absl::StrCat(dir, "/", name, "-ca.pem");
  pki.ca_.key = absl::StrCat(dir, "/", name, "-ca.key");
  absl::Status made =
      RunOpenssl({"req", "-x509", "-newkey", "ec", "-pkeyopt",
                  "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
                  pki.ca_.key, "-out", pki.ca_.cert, "-days", "2", "-subj",
                  absl::StrCat("/O=cloudlink tests/CN=", name, " CA"),
                  "-addext", "basicConstraints=critical,CA:TRUE", "-addext",
                  "keyUsage=critical,keyCertSign,cRLSign"});
  if (!made.ok()) return made;
  return pki;
}

TestPki TestPki::Adopt(const std::string& dir, const std::string& name,
                       CertFiles ca) {
  TestPki pki;
  pki.dir_ = dir;
  pki.name_ = name;
  pki.ca_ = std::move(ca);
  return pki;
}

absl::StatusOr<CertFiles> TestPki::Issue(const std::string& name,
                                         const std::string& subject,
                                         const std::string& extensions) const {
  CertFiles files;
  const std::string base = absl::StrCat(dir_, "/", name_, "-", name);
  files.cert = base + ".pem";
  files.key = base + ".key";
  const std::string csr = base + ".csr";
  const std::string ext = base + ".ext";
  absl::Status status = WriteFile(ext, extensions);
  if (!status.ok()) return status;
  status = RunOpenssl({"req", "-new", "-newkey", "ec", "-pkeyopt",
                       "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
                       files.key, "-out", csr, "-subj", subject});
  if (!status.ok()) return status;
  status = RunOpenssl({"x509", "-req", "-in", csr, "-CA", ca_.cert, "-CAkey",
                       ca_.key, "-set_serial",
                       absl::StrCat(std::hash<std::string>()(base) & 0xffffff),
                       "-days", "2", "-extfile", ext, "-out", files.cert});
  if (!status.ok()) return status;
  return files;
}

absl::StatusOr<CertFiles> TestPki::IssueServer(const std::string& name) const {
  return IssueServerFor(name, "IP:127.0.0.1,DNS:localhost");
}

absl::StatusOr<CertFiles> TestPki::IssueServerFor(
    const std::string& name, const std::string& subject_alt_name) const {
  return Issue(name, "/O=cloudlink tests/CN=cloudlinkd",
               absl::StrCat("basicConstraints=CA:FALSE\n"
                            "keyUsage=critical,digitalSignature\n"
                            "extendedKeyUsage=serverAuth\n"
                            "subjectAltName=",
                            subject_alt_name, "\n"));
}

absl::StatusOr<CertFiles> TestPki::IssueClient(
    const std::string& name, const std::string& subject) const {
  return Issue(name, subject,
               "basicConstraints=CA:FALSE\n"
               "keyUsage=critical,digitalSignature\n"
               "extendedKeyUsage=clientAuth\n");
}

absl::StatusOr<std::string> TestPki::MakeCrl(
    const std::string& name, const std::vector<CertFiles>& revoked) const {
  const std::string base = absl::StrCat(dir_, "/", name_, "-", name);
  const std::string config = base + ".cnf";
  const std::string index = base + ".index";
  absl::Status status = WriteFile(
      config, absl::StrCat("[ca]\ndefault_ca = crl\n[crl]\ndatabase = ", index,
                           "\ncrlnumber = ", base,
                           ".crlnumber\ndefault_md = sha256\n"
                           "default_crl_days = 2\n"));
  if (status.ok()) status = WriteFile(index, "");
  if (status.ok()) status = WriteFile(base + ".crlnumber", "01\n");
  for (const CertFiles& files : revoked) {
    if (!status.ok()) break;
    status = RunOpenssl({"ca", "-config", config, "-keyfile", ca_.key, "-cert",
                         ca_.cert, "-revoke", files.cert});
  }
  const std::string crl = base + ".crl.pem";
  if (status.ok()) {
    status = RunOpenssl({"ca", "-config", config, "-keyfile", ca_.key, "-cert",
                         ca_.cert, "-gencrl", "-out", crl});
  }
  if (!status.ok()) return status;
  return crl;
}

}  // namespace cloudlink::testing
