# The testbed's geo part (issue 14), sourced by Scripts/testbed: a GeoDNS authority and
# resolvers that reach it from different networks, with and without EDNS Client Subnet.
#
# The authority is PowerDNS Authoritative (Debian's pdns-server 4.7 with the bind backend,
# pdns-backend-bind) with LUA records (enable-lua-records) and edns-subnet-processing: its
# view() picks an answer by `bestwho`, the ECS network when the query carries one and the
# asking resolver's address otherwise (PowerDNS docs, "Lua Records" → "Preset variables":
# bestwho, ecswho; "Functions available": view(pairs)). Its caches are off so that a changed
# zone answers at once.
#
# Resolvers (each listens on, and sends from, its own address in its own /24; on loopback a
# client asking 127.N.13.1 comes from 127.N.13.1 too, so an ECS resolver's client subnet is
# its own network):
#   unbound A   $NET.11.1  no ECS          outgoing-interface $NET.11.1
#   unbound B   $NET.12.1  no ECS          outgoing-interface $NET.12.1
#   unbound ECS $NET.13.1  subnetcache     send-client-subnet to the geo authority
#   pdns ECS    $NET.14.1  PowerDNS Recursor edns-subnet-allow-list (the authority), ecs-add-for
#                          127.0.0.0/8 (its default leaves loopback clients out), query-local-address
# rr.geo.com. picks one of two addresses at random per query (LUA pickrandom), yet PowerDNS
# echoes ECS scope 24 for it as for every LUA record: a rotation that claims to be geo.
# Uses from Scripts/testbed: DIR NET TTL GEO_* start_bg stop_pidfile wait_for ensure_packages running.

GEO_TTL=300   # long, so that resolvers keep what they cached while a test changes the authority
GEO_KEYS=(r11 r12 r13 r14 default east west)

geo_default() {
    case "$1" in
        r11) echo 192.0.2.11 ;; r12) echo 192.0.2.12 ;; r13) echo 192.0.2.13 ;; r14) echo 192.0.2.14 ;;
        default) echo 192.0.2.100 ;; east) echo 198.51.100.1 ;; west) echo 198.51.100.2 ;;
        *) echo "testbed: unknown geo key '$1' (${GEO_KEYS[*]})" >&2; exit 64 ;;
    esac
}

geo_answer() { if [ -f "$DIR/geo/$1" ]; then cat "$DIR/geo/$1"; else geo_default "$1"; fi; }

write_geo_zones() {
    mkdir -p "$DIR/geo"
    local r11 r12 r13 r14 def east west
    r11=$(geo_answer r11) r12=$(geo_answer r12) r13=$(geo_answer r13) r14=$(geo_answer r14)
    def=$(geo_answer default) east=$(geo_answer east) west=$(geo_answer west)
    cat > "$DIR/zones/geo.zone" <<ZONE
\$TTL $GEO_TTL
geo.com.      IN SOA ns1.geo.com. hostmaster.geo.com. $(serial) 1800 900 604800 $TTL
geo.com.      IN NS  ns1.geo.com.
ns1.geo.com.  IN A   $GEO_IP
cdn.geo.com.  IN LUA A "view({ {{'$NET.11.0/24'}, {'$r11'}}, {{'$NET.12.0/24'}, {'$r12'}}, {{'$NET.13.0/24'}, {'$r13'}}, {{'$NET.14.0/24'}, {'$r14'}}, {{'0.0.0.0/0'}, {'$def'}} })"
two.geo.com.  IN LUA A "view({ {{'$NET.11.0/24', '$NET.13.0/24'}, {'$east'}}, {{'0.0.0.0/0'}, {'$west'}} })"
rr.geo.com.   IN LUA A "pickrandom({'203.0.113.201', '203.0.113.202'})"
ZONE
    cat > "$DIR/zones/site.zone" <<ZONE
\$TTL $GEO_TTL
site.com.     IN SOA ns1.geo.com. hostmaster.site.com. $(serial) 1800 900 604800 $TTL
site.com.     IN NS  ns1.geo.com.
www.site.com. IN CNAME cdn.geo.com.
ZONE
    cat > "$DIR/conf/pdns-geo-zones.conf" <<CONF
zone "geo.com" { type master; file "$DIR/zones/geo.zone"; };
zone "site.com" { type master; file "$DIR/zones/site.zone"; };
CONF
}

write_geo_confs() {
    cat > "$DIR/conf/pdns-geo.conf" <<CONF
launch=bind
bind-config=$DIR/conf/pdns-geo-zones.conf
bind-check-interval=0
local-address=$GEO_IP
local-port=53
daemon=no
guardian=no
write-pid=no
socket-dir=$DIR/run/pdns-geo
setuid=
setgid=
enable-lua-records=yes
edns-subnet-processing=yes
cache-ttl=0
query-cache-ttl=0
negquery-cache-ttl=0
disable-syslog=yes
loglevel=4
server-id=testbed-geo
webserver=no
api=no
CONF
    local name ip
    for name in a b ecs; do
        case $name in a) ip=$GEO_UNBOUND_A_IP ;; b) ip=$GEO_UNBOUND_B_IP ;; ecs) ip=$GEO_ECS_UNBOUND_IP ;; esac
        sed -e "s/interface: $UNBOUND_IP/interface: $ip\n  outgoing-interface: $ip/" \
            -e "s|unbound.pid|unbound-geo-$name.pid|; s|unbound.log|unbound-geo-$name.log|; s/testbed-unbound/testbed-geo-$name/" \
            "$DIR/conf/unbound.conf" > "$DIR/conf/unbound-geo-$name.conf"
    done
    sed -i -e 's/module-config: "iterator"/module-config: "subnetcache iterator"/' \
        -e "s|^server:|server:\n  send-client-subnet: $GEO_IP\n  max-client-subnet-ipv4: 24|" "$DIR/conf/unbound-geo-ecs.conf"
    sed -e "s/^local-address=.*/local-address=$GEO_ECS_PDNS_IP/" -e "s|^socket-dir=.*|socket-dir=$DIR/run/pdns-geo-ecs|" \
        -e "s/^server-id=.*/server-id=testbed-geo-pdns-ecs/" "$DIR/conf/recursor.conf" > "$DIR/conf/recursor-geo.conf"
    cat >> "$DIR/conf/recursor-geo.conf" <<CONF
query-local-address=$GEO_ECS_PDNS_IP
edns-subnet-allow-list=$GEO_IP
ecs-add-for=127.0.0.0/8
ecs-ipv4-bits=24
CONF
}

geo_start_resolvers() {
    local name
    for name in a b ecs; do
        start_bg "unbound-geo-$name" "$DIR/run/unbound-geo-$name.bg.pid" unbound -d -c "$DIR/conf/unbound-geo-$name.conf"
    done
    mkdir -p "$DIR/run/pdns-geo-ecs"
    start_bg pdns-geo-ecs "$DIR/run/pdns-geo-ecs.bg.pid" pdns_recursor --config-dir="$DIR/conf" --config-name=geo
    for ip in $GEO_UNBOUND_A_IP $GEO_UNBOUND_B_IP $GEO_ECS_UNBOUND_IP $GEO_ECS_PDNS_IP; do wait_for "$ip" com. SOA; done
}

geo_stop_resolvers() {
    local name
    for name in a b ecs; do stop_pidfile "$DIR/run/unbound-geo-$name.bg.pid"; done
    stop_pidfile "$DIR/run/pdns-geo-ecs.bg.pid"
}

geo_start_authority() {
    mkdir -p "$DIR/run/pdns-geo"
    start_bg pdns-geo "$DIR/run/pdns-geo.bg.pid" pdns_server --config-dir="$DIR/conf" --config-name=geo
    wait_for $GEO_IP geo.com. SOA
}

geo_up() {
    ensure_packages "${GEO_PACKAGES[@]}"
    write_geo_zones
    write_geo_confs
    geo_start_authority
    geo_start_resolvers
}

geo_down() {
    geo_stop_resolvers
    stop_pidfile "$DIR/run/pdns-geo.bg.pid"
}

geo_set() {  # key address: the authority answers it from now on (resolvers keep what they cached)
    geo_default "$1" > /dev/null
    mkdir -p "$DIR/geo"
    echo "$2" > "$DIR/geo/$1"
    write_geo_zones
    stop_pidfile "$DIR/run/pdns-geo.bg.pid"
    geo_start_authority
}

geo_flush() { geo_stop_resolvers; geo_start_resolvers; }

geo_resolvers() {
    cmd_resolvers
    cat <<LIST
$GEO_UNBOUND_A_IP | unbound geo A (no ECS) |    | testbed |
$GEO_UNBOUND_B_IP | unbound geo B (no ECS) |    | testbed |
$GEO_ECS_UNBOUND_IP | unbound geo ECS (subnetcache) |    | testbed |
$GEO_ECS_PDNS_IP | PowerDNS Recursor geo ECS |    | testbed |
LIST
}

geo_reset() {  # every geo answer back to its default at the authority
    rm -rf "$DIR/geo"
    write_geo_zones
    stop_pidfile "$DIR/run/pdns-geo.bg.pid"
    geo_start_authority
}
