import VectortCommands

VectortCtl.main()
