import VectortDaemon

await VectortdCommand.start()
