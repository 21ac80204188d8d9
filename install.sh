#!/usr/bin/env bash
# Tenantry installer: installs or upgrades the appliance on a systemd Linux host.
#
#   sudo bash install.sh                          # build from this checkout and install
#   sudo bash install.sh --binary ./tenantry      # install a binary built elsewhere
#   sudo bash install.sh --uninstall [--purge]    # remove it (keeps data unless --purge)
#   bash install.sh --root /tmp/stage --binary B  # stage into a directory (tests; no systemd)
#
# Idempotent: running it again changes nothing that is already in place. Your
# /etc/tenantry/tenantry.toml and /etc/tenantry/secret.key are never overwritten.
# Run `bash install.sh --help` for every option.
set -eu
set -o pipefail

NAME=tenantry
SCRIPT_DIR=$(cd "$(dirname "$0")" && pwd)
PACKAGING="$SCRIPT_DIR/packaging"

BINARY=""
PREFIX=/usr/local
ROOT=""
NON_INTERACTIVE=0
UNINSTALL=0
PURGE=0

usage() {
	cat <<EOF
Usage: install.sh [OPTIONS]

Install or upgrade Tenantry as a systemd service running as the system user 'tenantry'.

Options:
  --binary PATH       Install this tenantry binary. Without it, when install.sh sits in a
                      source checkout (Cargo.toml beside it), it runs
                      'cargo build --profile appliance' (release, symbols stripped) and installs
                      target/appliance/tenantry.
  --prefix DIR        Install the binary to DIR/bin (default /usr/local).
  --root DIR          Stage everything under DIR instead of / (for tests and image builds).
                      Runs without root; skips creating the user, chown, and systemctl.
  --non-interactive   Never ask a question (--purge then goes ahead without confirmation).
  --uninstall         Stop and disable the service, remove the binary and the unit.
                      Keeps /etc/tenantry (config, secret key) and /var/lib/tenantry (data).
  --purge             With --uninstall: also delete /etc/tenantry, /var/lib/tenantry and the
                      'tenantry' system user.
  -h, --help          Show this help.

What it does: creates the system user and group 'tenantry'; /etc/tenantry (0750
root:tenantry) with tenantry.toml (0640, only if absent) and secret.key (0640, generated once,
never regenerated); /var/lib/tenantry (0750 tenantry:tenantry); installs the binary atomically
(keeping the previous one as tenantry.previous) and /etc/systemd/system/tenantry.service; runs
'tenantry check-config'; then enables and starts the service (or restarts it on upgrade).
EOF
}

say() { printf '==> %s\n' "$*"; }
note() { printf '    %s\n' "$*"; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die() {
	printf 'error: %s\n' "$*" >&2
	exit 1
}

# An executable on PATH (bash's command -v also reports non-executable files).
have() {
	local p
	p=$(command -v "$1" 2>/dev/null) && [ -x "$p" ]
}

SKIPPED=()
skip() {
	SKIPPED+=("$*")
	note "skipped: $*"
}

need_value() {
	if [ "$#" -lt 2 ] || [ -z "$2" ]; then
		die "$1 needs a value (see --help)"
	fi
}

while [ "$#" -gt 0 ]; do
	case "$1" in
	--binary)
		need_value "$@"
		BINARY=$2
		shift 2
		;;
	--binary=*)
		BINARY=${1#*=}
		shift
		;;
	--prefix)
		need_value "$@"
		PREFIX=$2
		shift 2
		;;
	--prefix=*)
		PREFIX=${1#*=}
		shift
		;;
	--root)
		need_value "$@"
		ROOT=$2
		shift 2
		;;
	--root=*)
		ROOT=${1#*=}
		shift
		;;
	--non-interactive)
		NON_INTERACTIVE=1
		shift
		;;
	--uninstall)
		UNINSTALL=1
		shift
		;;
	--purge)
		PURGE=1
		shift
		;;
	-h | --help)
		usage
		exit 0
		;;
	*)
		usage >&2
		die "unknown option: $1"
		;;
	esac
done

# ---------------------------------------------------------------------------------------
# Preflight
# ---------------------------------------------------------------------------------------

if [ "$PURGE" = 1 ] && [ "$UNINSTALL" = 0 ]; then
	die "--purge only goes with --uninstall"
fi

case "$PREFIX" in
/*) ;;
*) die "--prefix must be an absolute path, got '$PREFIX'" ;;
esac
case "$PREFIX" in
*[[:space:]#]*) die "--prefix must not contain spaces or '#', got '$PREFIX'" ;;
esac
PREFIX=${PREFIX%/}
[ -n "$PREFIX" ] || die "--prefix must not be /"

if [ -n "$ROOT" ]; then
	mkdir -p "$ROOT"
	ROOT=$(cd "$ROOT" && pwd)
	[ "$ROOT" = / ] && ROOT=""
fi

if [ -z "$ROOT" ] && [ "$(id -u)" -ne 0 ]; then
	die "run as root (sudo bash install.sh ...), or stage into a directory with --root DIR"
fi

# Systemd is used only on the real root of a host booted with it.
HAVE_SYSTEMD=0
if [ -z "$ROOT" ] && [ -d /run/systemd/system ] && have systemctl; then
	HAVE_SYSTEMD=1
fi
if [ -n "$ROOT" ]; then
	WHY="--root is given"
else
	WHY="systemd is not running on this host"
fi

# Where things go on the target system, and where we write them now ($ROOT prefixed).
ETC_REAL=/etc/$NAME
DATA_REAL=/var/lib/$NAME
BIN_REAL=$PREFIX/bin/$NAME
CONFIG_REAL=$ETC_REAL/$NAME.toml
KEY_REAL=$ETC_REAL/secret.key
UNIT_REAL=/etc/systemd/system/$NAME.service
SYSUSERS_REAL=/etc/sysusers.d/$NAME.conf

ETC_DIR=$ROOT$ETC_REAL
DATA_DIR=$ROOT$DATA_REAL
BIN_DIR=$ROOT$PREFIX/bin
BIN=$ROOT$BIN_REAL
CONFIG=$ROOT$CONFIG_REAL
KEY=$ROOT$KEY_REAL
UNIT=$ROOT$UNIT_REAL
DROPIN_DIR=$ROOT/etc/systemd/system/$NAME.service.d
SYSUSERS=$ROOT$SYSUSERS_REAL

# Temporary files to remove if we stop early (a staged binary, a half-written file).
TEMPS=()
cleanup() {
	local f
	for f in "${TEMPS[@]}"; do
		rm -f -- "$f"
	done
}
trap cleanup EXIT

# new_temp VAR TEMPLATE - mktemp with cleanup on exit; the name is stored in VAR.
new_temp() {
	local name
	name=$(umask 077 && mktemp "$2")
	TEMPS+=("$name")
	printf -v "$1" '%s' "$name"
}

user_exists() { getent passwd "$NAME" >/dev/null 2>&1; }
group_exists() { getent group "$NAME" >/dev/null 2>&1; }

# ensure_perms PATH MODE OWNER:GROUP - set mode and owner, saying what changed.
# Under --root the owner is left alone (the staging user owns everything).
OWNER_SKIP_NOTED=0
ensure_perms() {
	local path=$1 mode=$2 owner=$3 current
	current=$(stat -c '%a' "$path")
	if [ "$current" != "${mode#0}" ]; then
		chmod "$mode" "$path"
		if [ "${JUST_CREATED:-0}" = 0 ]; then
			note "mode of $path: $current -> ${mode#0}"
		fi
	fi
	if [ -n "$ROOT" ]; then
		if [ "$OWNER_SKIP_NOTED" = 0 ]; then
			skip "chown to root/tenantry ($WHY; files keep the staging user as owner)"
			OWNER_SKIP_NOTED=1
		fi
		return 0
	fi
	current=$(stat -c '%U:%G' "$path")
	if [ "$current" != "$owner" ]; then
		chown "$owner" "$path"
		if [ "${JUST_CREATED:-0}" = 0 ]; then
			note "owner of $path: $current -> $owner"
		fi
	fi
}

# install_file SRC DEST MODE OWNER - replace DEST atomically when its content differs, and
# set FILE_CHANGED to 1 if it wrote, 0 if DEST was already identical. (It reports through a
# variable, not its status, so it is never called where `set -e` is suspended.)
FILE_CHANGED=0
install_file() {
	local src=$1 dest=$2 mode=$3 owner=$4 tmp
	FILE_CHANGED=0
	if [ -f "$dest" ] && cmp -s "$src" "$dest"; then
		ensure_perms "$dest" "$mode" "$owner"
		note "unchanged: $dest"
		return 0
	fi
	mkdir -p "$(dirname "$dest")"
	new_temp tmp "$(dirname "$dest")/.$(basename "$dest").XXXXXX"
	cat "$src" >"$tmp"
	JUST_CREATED=1 ensure_perms "$tmp" "$mode" "$owner"
	mv -f "$tmp" "$dest"
	FILE_CHANGED=1
	note "wrote: $dest"
}

# Run a command as the service user when we can, so the check sees what the service sees.
as_service_user() {
	if [ -z "$ROOT" ] && user_exists && have runuser; then
		(cd / && runuser -u "$NAME" -- "$@")
	else
		"$@"
	fi
}

confirm() {
	local answer
	if [ "$NON_INTERACTIVE" = 1 ]; then
		return 0
	fi
	if [ ! -t 0 ]; then
		die "$1: no terminal to confirm on; add --non-interactive to go ahead"
	fi
	printf '%s [type yes to confirm] ' "$1"
	read -r answer || true
	[ "$answer" = yes ]
}

# ---------------------------------------------------------------------------------------
# Uninstall
# ---------------------------------------------------------------------------------------

if [ "$UNINSTALL" = 1 ]; then
	# Ask before touching anything, so a refused purge leaves the installation as it was.
	if [ "$PURGE" = 1 ] &&
		! confirm "Uninstall and DELETE $ETC_DIR (config, secret key) and $DATA_DIR (the database)?"; then
		say "Nothing was changed."
		exit 1
	fi
	say "Uninstalling Tenantry${ROOT:+ from $ROOT}"
	if [ "$HAVE_SYSTEMD" = 1 ]; then
		if [ -e "$UNIT" ] || systemctl cat "$NAME.service" >/dev/null 2>&1; then
			systemctl disable --now "$NAME.service" || warn "could not disable $NAME.service"
		fi
	else
		skip "systemctl disable --now $NAME ($WHY)"
	fi
	for f in "$UNIT" "$BIN" "$BIN.previous"; do
		if [ -e "$f" ] || [ -L "$f" ]; then
			rm -f "$f"
			note "removed: $f"
		fi
	done
	if [ "$HAVE_SYSTEMD" = 1 ]; then
		systemctl daemon-reload
		systemctl reset-failed "$NAME.service" >/dev/null 2>&1 || true
	else
		skip "systemctl daemon-reload ($WHY)"
	fi

	if [ "$PURGE" = 1 ]; then
		for d in "$ETC_DIR" "$DATA_DIR" "$DROPIN_DIR"; do
			if [ -e "$d" ]; then
				rm -rf -- "$d"
				note "deleted: $d"
			fi
		done
		if [ -e "$SYSUSERS" ]; then
			rm -f "$SYSUSERS"
			note "removed: $SYSUSERS"
		fi
		if [ -n "$ROOT" ]; then
			skip "userdel $NAME ($WHY)"
		else
			if user_exists; then
				if userdel "$NAME"; then
					note "deleted system user $NAME"
				else
					warn "could not delete the user $NAME (is a process still running as it?)"
				fi
			fi
			if group_exists; then
				if groupdel "$NAME"; then
					note "deleted group $NAME"
				else
					warn "could not delete the group $NAME"
				fi
			fi
		fi
		say "Tenantry is removed, with its configuration, secret key and data."
	else
		say "Tenantry is removed. Kept, for a later reinstall:"
		note "$ETC_REAL (tenantry.toml, secret.key)"
		note "$DATA_REAL (the database)"
		note "the system user '$NAME'"
		note "Delete them too with: bash install.sh --uninstall --purge"
	fi
	if [ "${#SKIPPED[@]}" -gt 0 ]; then
		say "Skipped because $WHY:"
		for s in "${SKIPPED[@]}"; do note "$s"; done
	fi
	exit 0
fi

# ---------------------------------------------------------------------------------------
# Install or upgrade
# ---------------------------------------------------------------------------------------

for f in tenantry.toml tenantry.service sysusers.d/tenantry.conf; do
	[ -f "$PACKAGING/$f" ] || die "missing $PACKAGING/$f: run install.sh from a Tenantry source tree or release archive"
done

if [ -z "$BINARY" ]; then
	if [ -f "$SCRIPT_DIR/Cargo.toml" ]; then
		have cargo ||
			die "no --binary given and cargo is not on root's PATH. Build as your user with 'cargo build --profile appliance' (release, stripped), then run: sudo bash install.sh --binary target/appliance/tenantry"
		# jemalloc (the allocator, src/allocator.rs) is built from C by its crate's build script.
		{ have make && have cc; } ||
			die "building needs make and a C compiler (Debian/Ubuntu: apt install build-essential), or build elsewhere and pass --binary"
		say "Building the release binary (cargo build --profile appliance --locked in $SCRIPT_DIR)"
		(cd "$SCRIPT_DIR" && cargo build --profile appliance --locked)
		BINARY="$SCRIPT_DIR/target/appliance/$NAME"
	else
		die "no --binary given and no Cargo.toml beside install.sh to build from"
	fi
fi
[ -f "$BINARY" ] || die "binary not found: $BINARY"
[ -x "$BINARY" ] || die "binary is not executable: $BINARY"
BINARY=$(cd "$(dirname "$BINARY")" && pwd)/$(basename "$BINARY")
VERSION=$("$BINARY" --version 2>/dev/null | head -n 1) || die "$BINARY does not run on this machine (wrong architecture?)"

UPGRADE=0
if [ -e "$BIN" ]; then UPGRADE=1; fi

say "Installing Tenantry${VERSION:+ ($VERSION)}${ROOT:+ into $ROOT}"
note "binary:     $BINARY -> $BIN_REAL (previous kept as $BIN_REAL.previous)"
note "config:     $CONFIG_REAL (only if absent)"
note "secret key: $KEY_REAL (only if absent)"
note "data:       $DATA_REAL"
note "unit:       $UNIT_REAL"
note "user:       system user and group '$NAME' ($SYSUSERS_REAL)"

# --- system user -----------------------------------------------------------------------
say "System user and group '$NAME'"
install_file "$PACKAGING/sysusers.d/tenantry.conf" "$SYSUSERS" 0644 root:root
if [ -n "$ROOT" ]; then
	skip "creating the system user $NAME ($WHY)"
elif user_exists; then
	note "user $NAME exists"
elif have systemd-sysusers; then
	systemd-sysusers "$SYSUSERS"
	note "created by systemd-sysusers"
else
	group_exists || groupadd --system "$NAME"
	useradd --system --no-create-home --home-dir "$DATA_REAL" --shell /usr/sbin/nologin \
		--gid "$NAME" --comment "Tenantry appliance" "$NAME"
	note "created with useradd"
fi
if [ -z "$ROOT" ]; then
	user_exists || die "the system user $NAME could not be created"
fi

# --- directories -----------------------------------------------------------------------
say "Directories"
for d in "$ETC_DIR:0750:root:$NAME" "$DATA_DIR:0750:$NAME:$NAME"; do
	path=${d%%:*}
	rest=${d#*:}
	mode=${rest%%:*}
	owner=${rest#*:}
	if [ -d "$path" ]; then
		note "exists: $path"
		ensure_perms "$path" "$mode" "$owner"
	else
		mkdir -p "$path"
		JUST_CREATED=1 ensure_perms "$path" "$mode" "$owner"
		if [ -n "$ROOT" ]; then owner=""; fi
		note "created: $path ($mode${owner:+ $owner})"
	fi
done

# --- configuration ---------------------------------------------------------------------
say "Configuration"
if [ ! -e "$CONFIG" ]; then
	install_file "$PACKAGING/tenantry.toml" "$CONFIG" 0640 "root:$NAME"
	note "installed the example config; edit it, then: systemctl restart $NAME"
else
	ensure_perms "$CONFIG" 0640 "root:$NAME"
	if cmp -s "$PACKAGING/tenantry.toml" "$CONFIG"; then
		note "unchanged: $CONFIG"
		if [ -e "$CONFIG.new" ]; then
			rm -f "$CONFIG.new"
			note "removed the stale $CONFIG.new"
		fi
	else
		note "kept your $CONFIG_REAL (it differs from the shipped example)"
		install_file "$PACKAGING/tenantry.toml" "$CONFIG.new" 0640 "root:$NAME"
		note "the shipped example is in $CONFIG_REAL.new; compare with:"
		note "  diff -u $CONFIG_REAL $CONFIG_REAL.new"
	fi
fi

# --- secret key ------------------------------------------------------------------------
say "Secret key"
if [ -e "$KEY" ]; then
	ensure_perms "$KEY" 0640 "root:$NAME"
	if ! tr -d '\n' <"$KEY" | grep -Eq '^[0-9a-fA-F]{64}$'; then
		warn "$KEY_REAL is not 64 hex characters; Tenantry will refuse to start with it"
	fi
	note "kept the existing $KEY_REAL: it is never regenerated, because it decrypts the"
	note "secrets stored in the database. Back it up together with the database."
else
	new_temp tmp "$ETC_DIR/.secret.key.XXXXXX"
	(umask 077 && od -An -v -tx1 -N32 /dev/urandom | tr -d ' \n' >"$tmp")
	if [ "$(wc -c <"$tmp")" -ne 64 ]; then
		rm -f "$tmp"
		die "could not read 32 random bytes from /dev/urandom"
	fi
	JUST_CREATED=1 ensure_perms "$tmp" 0640 "root:$NAME"
	# ln refuses to replace an existing file, so a concurrent run cannot swap keys.
	if ln "$tmp" "$KEY" 2>/dev/null; then
		rm -f "$tmp"
		note "generated $KEY_REAL (32 random bytes, 0640 root:$NAME)."
		note "It is never regenerated on upgrade. Back it up: without it, secrets stored in"
		note "the database cannot be decrypted."
	else
		rm -f "$tmp"
		die "could not create $KEY"
	fi
fi

# --- binary (staged) -------------------------------------------------------------------
say "Binary"
mkdir -p "$BIN_DIR"
BIN_CHANGED=0
CHECK_BIN=$BIN
if [ -f "$BIN" ] && cmp -s "$BINARY" "$BIN"; then
	note "unchanged: $BIN"
	ensure_perms "$BIN" 0755 root:root
else
	new_temp STAGED "$BIN_DIR/.$NAME.new.XXXXXX"
	install -m 0755 "$BINARY" "$STAGED"
	JUST_CREATED=1 ensure_perms "$STAGED" 0755 root:root
	CHECK_BIN=$STAGED
	BIN_CHANGED=1
	note "staged the new binary; it replaces $BIN_REAL once the config check passes"
fi

# --- check the configuration with the binary about to run ------------------------------
say "Checking the configuration (tenantry check-config)"
CHECK_ENV=(env -i "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
if [ -n "$ROOT" ]; then
	# The installed config names /var/lib/tenantry and /etc/tenantry/secret.key, which live
	# under $ROOT while staging.
	CHECK_ENV+=("TENANTRY_SERVER_DATA_DIR=$DATA_DIR" "TENANTRY_SECRETS_KEY_FILE=$KEY")
fi
set +e
CHECK_OUT=$(as_service_user "${CHECK_ENV[@]}" "$CHECK_BIN" check-config --config "$CONFIG" 2>&1)
CHECK_RC=$?
set -e
if [ "$CHECK_RC" -ne 0 ]; then
	printf '%s\n' "$CHECK_OUT" | sed 's/^/    | /' >&2
	printf '\n' >&2
	warn "the configuration check failed (exit $CHECK_RC); the service was NOT enabled or restarted."
	cat >&2 <<EOF
Next steps:
  1. Fix the key named above in $CONFIG_REAL
     (every key is documented in it; env overrides are TENANTRY_<SECTION>_<KEY>).
  2. Check it:  $BIN_REAL check-config --config $CONFIG_REAL
  3. Run install.sh again; it keeps your config and secret key.
EOF
	if [ "$BIN_CHANGED" = 1 ]; then
		printf 'The new binary was not installed; %s is unchanged.\n' "$BIN_REAL" >&2
	fi
	exit 1
fi
note "configuration OK"
# Pass on what the check warns about (unknown TENANTRY_* variables and the like).
printf '%s\n' "$CHECK_OUT" | sed -n 's/^# warning: /    warning: /p'

# --- binary (atomic swap) --------------------------------------------------------------
if [ "$BIN_CHANGED" = 1 ]; then
	if [ -e "$BIN" ]; then
		ln -f "$BIN" "$BIN.previous" 2>/dev/null || cp -p "$BIN" "$BIN.previous"
		note "kept the previous binary as $BIN_REAL.previous"
		note "(roll back: cp -p $BIN_REAL.previous $BIN_REAL && systemctl restart $NAME)"
	fi
	mv -f "$STAGED" "$BIN"
	note "installed: $BIN"
fi

# --- how to reach it ------------------------------------------------------------------
config_value() {
	# First uncommented `key = "value"` in the config file (all our keys have unique names).
	sed -n "s/^[[:space:]]*$1[[:space:]]*=[[:space:]]*\"\\([^\"]*\\)\".*/\\1/p" "$CONFIG" | head -n 1
}
LISTEN=$(config_value listen)
LISTEN=${LISTEN:-127.0.0.1:8080}
SCHEME=http
if [ -n "$(config_value tls_cert)" ]; then SCHEME=https; fi
URL=$(config_value public_url)
URL=${URL:-$SCHEME://$LISTEN}

# Type=simple reports "active" as soon as the process exists, even one that exits a moment
# later, so "up" means: running with the same main PID for a few seconds.
service_stays_up() {
	local first second state
	sleep 2
	first=$(systemctl show -p MainPID --value "$NAME.service")
	sleep 3
	second=$(systemctl show -p MainPID --value "$NAME.service")
	state=$(systemctl show -p SubState --value "$NAME.service")
	[ "$state" = running ] && [ "$first" != 0 ] && [ "$first" = "$second" ]
}

# Ask /healthz on this machine (when curl is installed).
health_check() {
	local host=${LISTEN%:*} port=${LISTEN##*:} i
	case "$host" in
	0.0.0.0 | "") host=127.0.0.1 ;;
	"[::]") host="[::1]" ;;
	esac
	if ! have curl; then
		note "(curl is not installed, so /healthz was not checked)"
		return 0
	fi
	for i in 1 2 3 4 5; do
		if curl -fsS -k --max-time 3 -o /dev/null "$SCHEME://$host:$port/healthz" 2>/dev/null; then
			note "$SCHEME://$host:$port/healthz answers"
			return 0
		fi
		sleep "$i"
	done
	warn "$SCHEME://$host:$port/healthz did not answer; see: journalctl -u $NAME -e"
}

# --- systemd unit ----------------------------------------------------------------------
say "systemd unit"
new_temp UNIT_SRC "${TMPDIR:-/tmp}/tenantry.service.XXXXXX"
sed "s#/usr/local/bin/tenantry#$BIN_REAL#g" "$PACKAGING/tenantry.service" >"$UNIT_SRC"
install_file "$UNIT_SRC" "$UNIT" 0644 root:root
UNIT_CHANGED=$FILE_CHANGED

if [ "$HAVE_SYSTEMD" = 1 ]; then
	if [ "$UNIT_CHANGED" = 1 ]; then
		systemctl daemon-reload
	fi
	if have systemd-analyze; then
		VERIFY_OUT=$(systemd-analyze verify "$UNIT" 2>&1) || true
		if [ -n "$VERIFY_OUT" ]; then
			warn "systemd-analyze verify $UNIT_REAL says:"
			printf '%s\n' "$VERIFY_OUT" | sed 's/^/    | /' >&2
		fi
	fi
	CHECK_UP=0
	if ! systemctl is-enabled --quiet "$NAME.service" 2>/dev/null; then
		say "Enabling and starting $NAME"
		systemctl enable --now "$NAME.service"
		CHECK_UP=1
	elif [ "$BIN_CHANGED" = 1 ] || [ "$UNIT_CHANGED" = 1 ]; then
		if systemctl is-active --quiet "$NAME.service"; then
			say "Upgrade: restarting $NAME"
			systemctl try-restart "$NAME.service"
			CHECK_UP=1
		else
			note "$NAME is enabled but not running, so it was not restarted; start it with:"
			note "  systemctl start $NAME"
		fi
	else
		note "binary and unit unchanged: $NAME is not restarted"
	fi
	if [ "$CHECK_UP" = 1 ]; then
		if service_stays_up; then
			note "$NAME is running (main PID $(systemctl show -p MainPID --value "$NAME.service"))"
			health_check
		else
			journalctl -u "$NAME.service" -n 30 --no-pager >&2 || true
			if [ "$BIN_CHANGED" = 1 ] && [ -e "$BIN.previous" ]; then
				printf 'To go back to the previous binary:\n  cp -p %s %s && systemctl restart %s\n' \
					"$BIN_REAL.previous" "$BIN_REAL" "$NAME" >&2
			fi
			die "$NAME did not stay up; see the log above and: journalctl -u $NAME -e"
		fi
	elif systemctl is-active --quiet "$NAME.service"; then
		note "$NAME is running"
	fi
else
	skip "systemctl daemon-reload, enable --now / try-restart $NAME ($WHY)"
fi

# --- report ----------------------------------------------------------------------------

echo
if [ "$UPGRADE" = 1 ] && [ "$BIN_CHANGED" = 0 ] && [ "$UNIT_CHANGED" = 0 ]; then
	say "Tenantry is already installed and up to date. Your config and secret key were kept."
elif [ "$UPGRADE" = 1 ]; then
	say "Tenantry is upgraded. Your config and secret key were kept."
else
	say "Tenantry is installed."
fi
cat <<EOF

Open:       $URL
            (server.public_url in $CONFIG_REAL; Microsoft sign-in needs https://,
             via a reverse proxy or server.tls_cert/tls_key: see the comments there)

Sign in:    On its first start with no staff account, Tenantry logs a one-time setup link:
              journalctl -u $NAME | grep -i setup
            Or create the first admin from the shell (the service must be stopped; the
            command asks for the password, or reads it from standard input):
              systemctl stop $NAME
              runuser -u $NAME -- $BIN_REAL admin add-user --config $CONFIG_REAL --email you@example.com --role admin
              systemctl start $NAME

Operate:    systemctl status $NAME
            journalctl -u $NAME -f
            $BIN_REAL check-config --config $CONFIG_REAL

Back up:    (safe while the service runs)
              $BIN_REAL backup /root/tenantry-\$(date +%F).redb --config $CONFIG_REAL
            and keep $KEY_REAL with it, stored apart: without that key the secrets
            in the database cannot be decrypted.

Files:      $CONFIG_REAL  $KEY_REAL
            $DATA_REAL (database)  $BIN_REAL  $UNIT_REAL
Upgrade:    run install.sh again with the new binary (config and key are kept).
Uninstall:  bash install.sh --uninstall   (keeps config and data; add --purge to delete them)
EOF
if [ "$HAVE_SYSTEMD" = 0 ] && [ -z "$ROOT" ]; then
	cat <<EOF

systemd is not running here, so nothing was started. Run Tenantry in the foreground with:
  runuser -u $NAME -- $BIN_REAL serve --config $CONFIG_REAL
EOF
fi
if [ "${#SKIPPED[@]}" -gt 0 ]; then
	echo
	say "Skipped because $WHY:"
	for s in "${SKIPPED[@]}"; do note "$s"; done
fi
