# The collector's system user, and its state directory owned by it (0700: the CA key
# and the database). Run by the deb's postinst and the rpm's %pre; an existing user or
# directory is left as it is.
if ! getent passwd portwarden >/dev/null; then
    useradd --system --user-group --home-dir /var/lib/portwarden --no-create-home \
        --shell /usr/sbin/nologin --comment "portwarden collector" portwarden
fi
if [ ! -d /var/lib/portwarden ]; then
    install -d -m 0700 -o portwarden -g portwarden /var/lib/portwarden
fi
