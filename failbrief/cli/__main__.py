from failbrief.cli import main

main()
