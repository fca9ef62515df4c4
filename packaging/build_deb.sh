#!/bin/bash
# Builds the cloudlink Debian package (run by the //packaging:deb genrule):
#   build_deb.sh OUT.deb VERSION_H CLOUDLINKD CLOUDLINKCTL COMPLETION_GEN \
#                UNIT SYSUSERS CLAIM_CONF_EXAMPLE MAN8 MAN1 \
#                POSTINST PRERM POSTRM CONTROL_IN
# Depends: the packages that own the shared libraries the two programs load
# (ldd + dpkg -S on the build machine, as dpkg-shlibdeps would find them).
set -euo pipefail
umask 022

out=$1 version_h=$2 cloudlinkd=$3 cloudlinkctl=$4 completion_gen=$5
unit=$6 sysusers=$7 example=$8 man8=$9 man1=${10}
postinst=${11} prerm=${12} postrm=${13} control_in=${14}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/root

install -d "$root/DEBIAN" "$root/usr/sbin" "$root/usr/bin" \
  "$root/lib/systemd/system" "$root/usr/lib/sysusers.d" \
  "$root/usr/share/doc/cloudlink/examples" "$root/usr/share/man/man8" \
  "$root/usr/share/man/man1" "$root/usr/share/bash-completion/completions"

strip --strip-unneeded -o "$root/usr/sbin/cloudlinkd" "$cloudlinkd"
strip --strip-unneeded -o "$root/usr/bin/cloudlinkctl" "$cloudlinkctl"
chmod 0755 "$root/usr/sbin/cloudlinkd" "$root/usr/bin/cloudlinkctl"
install -m 0644 "$unit" "$root/lib/systemd/system/cloudlink.service"
install -m 0644 "$sysusers" "$root/usr/lib/sysusers.d/cloudlink.conf"
install -m 0644 "$example" "$root/usr/share/doc/cloudlink/examples/claim.conf"
gzip -9n <"$man8" >"$root/usr/share/man/man8/cloudlinkd.8.gz"
gzip -9n <"$man1" >"$root/usr/share/man/man1/cloudlinkctl.1.gz"
"$completion_gen" >"$root/usr/share/bash-completion/completions/cloudlinkctl"
chmod 0644 "$root"/usr/share/man/man*/*.gz \
  "$root/usr/share/bash-completion/completions/cloudlinkctl"

version=$(sed -n 's/.*kVersion\[\] = "\([^"]*\)";.*/\1/p' "$version_h")
[ -n "$version" ] || { echo "build_deb.sh: no kVersion in $version_h" >&2; exit 1; }
arch=$(dpkg --print-architecture)

depends=$(
  for program in "$cloudlinkd" "$cloudlinkctl"; do
    # Only the libraries the programs name themselves (NEEDED), where ldd
    # finds them.
    needed=$(readelf -d "$program" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
    ldd "$program" | awk -v needed="$needed" '
      BEGIN { n = split(needed, names, "\n"); for (i = 1; i <= n; i++) want[names[i]] = 1 }
      $2 == "=>" && $3 ~ /^\// && ($1 in want) { print $3 }'
  done | sort -u | while read -r lib; do
    for candidate in "$lib" "$(readlink -f "$lib")" "/usr$lib"; do
      owner=$(dpkg -S "$candidate" 2>/dev/null | grep -v '^diversion' | head -n1 | cut -d: -f1) || true
      if [ -n "$owner" ]; then
        echo "$owner"
        break
      fi
    done
  done | sort -u | paste -sd, - | sed 's/,/, /g'
)
[ -n "$depends" ] || { echo "build_deb.sh: no library packages found" >&2; exit 1; }
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)

sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" \
  -e "s/@DEPENDS@/$depends/" -e "s/@SIZE@/$size/" \
  "$control_in" >"$root/DEBIAN/control"
install -m 0755 "$postinst" "$root/DEBIAN/postinst"
install -m 0755 "$prerm" "$root/DEBIAN/prerm"
install -m 0755 "$postrm" "$root/DEBIAN/postrm"
(cd "$root" && find usr lib -type f -print0 | sort -z | xargs -0 md5sum) \
  >"$root/DEBIAN/md5sums"
chmod 0644 "$root/DEBIAN/control" "$root/DEBIAN/md5sums"

dpkg-deb --root-owner-group -Zxz --build "$root" "$out" >/dev/null
