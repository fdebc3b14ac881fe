# Sourced by scripts/kafka.sh and scripts/kafka-cluster.sh: the broker's log4j2 configuration.
# write_log4j2 FILE LOG_DIR BACKUPS — server.log in LOG_DIR, rolled at 20 MB, BACKUPS files kept;
# state-change and request loggers at warn (they log every partition move and request at info).
write_log4j2() {
  local file="$1" log_dir="$2" backups="$3"
  cat >"$file" <<EOF2
status = warn
appender.file.type = RollingFile
appender.file.name = file
appender.file.fileName = $log_dir/server.log
appender.file.filePattern = $log_dir/server.log.%i
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
appender.file.policies.type = Policies
appender.file.policies.size.type = SizeBasedTriggeringPolicy
appender.file.policies.size.size = 20MB
appender.file.strategy.type = DefaultRolloverStrategy
appender.file.strategy.max = $backups
rootLogger.level = info
rootLogger.appenderRef.file.ref = file
logger.statechange.name = state.change.logger
logger.statechange.level = warn
logger.request.name = kafka.request.logger
logger.request.level = warn
EOF2
}
