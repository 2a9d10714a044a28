# The collector's system user, and its state directory owned by it (0700: the CA key
# and the database). Run by the deb's preinst and the rpm's %pre (before anything is
# unpacked, so a refusal leaves the host as it was); an existing user or
# directory is left as it is — but only a system account is taken for the user that will
# own the fleet CA's key: a `portwarden` person or directory-service account is refused.
existing_uid=$(getent passwd portwarden | cut -d: -f3)
system_uid_max=$(awk '$1 == "SYS_UID_MAX" { print $2 }' /etc/login.defs 2>/dev/null)
if [ -n "$existing_uid" ] && [ "$existing_uid" -gt "${system_uid_max:-999}" ]; then
    echo "portwarden: a user named portwarden exists with uid $existing_uid, not a system account; it would own the" \
        "fleet CA's key. Rename or remove that account, or make the system user yourself, then install again." >&2
    exit 1
fi
if [ -z "$existing_uid" ]; then
    useradd --system --user-group --home-dir /var/lib/portwarden --no-create-home \
        --shell /usr/sbin/nologin --comment "portwarden collector" portwarden
fi
if [ ! -d /var/lib/portwarden ]; then
    install -d -m 0700 -o portwarden -g portwarden /var/lib/portwarden
fi
