# fish completion for pressure(1). Installed to share/fish/vendor_completions.d. Commands,
# flags, resource names and some|full inside a SPEC or CONDITION, files, and cgroup paths under
# the cgroup2 mount for --cgroup.

set -l commands show watch predict admit daemon top record history plot serve version

# The cgroup2 mount: --cgroup-root on the line, else the first cgroup2 line of mountinfo.
function __pressure_cgroup_root
    set -l words (commandline -opc)
    set -l i (contains -i -- --cgroup-root $words)
    and set -q words[(math $i + 1)]
    and echo $words[(math $i + 1)]
    and return
    string match -r -- '^(?:\S+ ){4}(\S+) .* - cgroup2 ' </proc/self/mountinfo | sed -n 2p
end

function __pressure_cgroups
    set -l root (__pressure_cgroup_root)
    test -n "$root" -a -d "$root"; or return
    set -l cur (commandline -ct)
    set -l lead ''
    string match -q -- '/*' $cur; and set lead /
    set -l rel (string replace -r -- '^/' '' $cur)
    for dir in $root/$rel*/
        echo $lead(string replace -- "$root/" '' (string trim -r -c / -- $dir))
    end
end

# A SPEC or CONDITION, offered whole: resource, line and an example tail (irq has only full).
function __pressure_spec
    set -l tails 100ms/2s 10%/1s 20%/2s
    test "$argv[1]" = condition; and set tails 'avg10<10' 'avg60<5' '2s<20%'
    for r in cpu memory io irq
        for l in some full
            test $r = irq -a $l = some; and continue
            for t in $tails
                echo "$r $l $t"
            end
        end
    end
end

complete -c pressure -f
complete -c pressure -l proc-root -r -a '(__fish_complete_directories)' -d 'read pressure files under DIR'
complete -c pressure -l cgroup-root -r -a '(__fish_complete_directories)' -d 'the cgroup2 mount'
complete -c pressure -l version -d 'print the version and exit'
complete -c pressure -s h -l help -d 'print the commands and flags'

complete -c pressure -n "not __fish_seen_subcommand_from $commands" -a show -d 'pressure now, or every interval'
complete -c pressure -n "not __fish_seen_subcommand_from $commands" -a watch -d 'a line each time a threshold is crossed'
complete -c pressure -n "not __fish_seen_subcommand_from $commands" -a predict -d 'how long until the averages are below'
complete -c pressure -n "not __fish_seen_subcommand_from $commands" -a admit -d 'exit 0 when every CONDITION holds'
complete -c pressure -n "not __fish_seen_subcommand_from $commands" -a daemon -d 'run the rules of a TOML file'
complete -c pressure -n "not __fish_seen_subcommand_from $commands" -a top -d 'a live view of the system and cgroups'
complete -c pressure -n "not __fish_seen_subcommand_from $commands" -a record -d 'sample into an SQLite history'
complete -c pressure -n "not __fish_seen_subcommand_from $commands" -a history -d 'which resource was short, where, when'
complete -c pressure -n "not __fish_seen_subcommand_from $commands" -a plot -d 'draw the history as an SVG chart'
complete -c pressure -n "not __fish_seen_subcommand_from $commands" -a serve -d 'serve Prometheus metrics'
complete -c pressure -n "not __fish_seen_subcommand_from $commands" -a version -d 'the version and the build'

# --cgroup and --pid on the commands that read one target.
for command in show watch predict admit history plot
    complete -c pressure -n "__fish_seen_subcommand_from $command" -l cgroup -x -a '(__pressure_cgroups)' -d 'a cgroup2 group'
    complete -c pressure -n "__fish_seen_subcommand_from $command" -l pid -x -a '(__fish_complete_pids)' -d 'the group of process PID'
end
for command in record serve
    complete -c pressure -n "__fish_seen_subcommand_from $command" -l cgroup -x -a '(__pressure_cgroups)' -d 'cgroups matching GLOB'
end
for command in show watch predict admit history version
    complete -c pressure -n "__fish_seen_subcommand_from $command" -l json -d 'JSON output'
end
for command in history plot record
    complete -c pressure -n "__fish_seen_subcommand_from $command" -l db -r -F -d 'the history file'
end
for command in history plot
    complete -c pressure -n "__fish_seen_subcommand_from $command" -l since -x -d 'start: ISO 8601, epoch, -1h, "10m ago"'
    complete -c pressure -n "__fish_seen_subcommand_from $command" -l until -x -d 'end (default now)'
end

complete -c pressure -n '__fish_seen_subcommand_from show' -l interval -x -d 'sample every SECONDS'
complete -c pressure -n '__fish_seen_subcommand_from show' -l count -x -d 'stop after N samples'

complete -c pressure -n '__fish_seen_subcommand_from watch' -a '(__pressure_spec spec)' -d SPEC
complete -c pressure -n '__fish_seen_subcommand_from watch' -l count -x -d 'exit 0 after N events'
complete -c pressure -n '__fish_seen_subcommand_from watch' -l timeout -x -d 'stop after SECONDS'
complete -c pressure -n '__fish_seen_subcommand_from watch' -l mode -x -a 'auto kernel polling' -d 'how to watch'
complete -c pressure -n '__fish_seen_subcommand_from watch' -l strict-window -d 'refuse a window the kernel rounds'
complete -c pressure -n '__fish_seen_subcommand_from watch' -l from-environment -d 'watch what $MEMORY_PRESSURE_WATCH asks for'
complete -c pressure -n '__fish_seen_subcommand_from watch' -l exec -d 'run -- CMD ARGS... on each event'

complete -c pressure -n '__fish_seen_subcommand_from predict' -l below -x -d 'thresholds: avg10=0.01,avg60=0.03'
complete -c pressure -n '__fish_seen_subcommand_from predict' -l sample -x -d 'seconds to watch total'

complete -c pressure -n '__fish_seen_subcommand_from admit' -a '(__pressure_spec condition)' -d CONDITION

complete -c pressure -n '__fish_seen_subcommand_from daemon' -l config -r -F -d 'the rules (TOML)'
complete -c pressure -n '__fish_seen_subcommand_from daemon' -l dry-run -d 'log every decision, act on nothing'
complete -c pressure -n '__fish_seen_subcommand_from daemon' -l check -d 'parse, resolve and arm, then exit'
complete -c pressure -n '__fish_seen_subcommand_from daemon' -l log-format -x -a 'text json' -d 'log lines'

complete -c pressure -n '__fish_seen_subcommand_from top' -l interval -x -d 'seconds between updates'
complete -c pressure -n '__fish_seen_subcommand_from top' -l count -x -d 'stop after N updates'
complete -c pressure -n '__fish_seen_subcommand_from top' -l cgroup -x -d 'only the groups this selector matches'

complete -c pressure -n '__fish_seen_subcommand_from record' -l interval -x -d 'seconds between samples'
complete -c pressure -n '__fish_seen_subcommand_from record' -l no-system -d 'only the cgroups'
complete -c pressure -n '__fish_seen_subcommand_from record' -l retention -x -d 'delete samples older than this'
complete -c pressure -n '__fish_seen_subcommand_from record' -l raw -x -d 'keep every sample this long'
complete -c pressure -n '__fish_seen_subcommand_from record' -l count -x -d 'stop after N samples'

complete -c pressure -n '__fish_seen_subcommand_from history' -l all -d 'also lines that never stalled'
complete -c pressure -n '__fish_seen_subcommand_from history' -l window -x -d 'length of the worst window'
complete -c pressure -n '__fish_seen_subcommand_from history' -l above -x -d 'threshold in percent'
complete -c pressure -n '__fish_seen_subcommand_from history' -l for -x -d 'only stretches this long'

complete -c pressure -n '__fish_seen_subcommand_from plot' -s o -l output -r -F -d 'the SVG file to write'
complete -c pressure -n '__fish_seen_subcommand_from plot' -l top -x -d 'the N-1 most stalled cgroups too'

complete -c pressure -n '__fish_seen_subcommand_from serve' -l listen -x -a '127.0.0.1:9101 :9101' -d 'HOST:PORT'
complete -c pressure -n '__fish_seen_subcommand_from serve' -l no-cgroups -d 'the system only'
complete -c pressure -n '__fish_seen_subcommand_from serve' -l no-averages -d 'leave out pressure_avg_ratio'
complete -c pressure -n '__fish_seen_subcommand_from serve' -l no-name-labels -d 'leave out unit, container_id, pod_uid labels'
