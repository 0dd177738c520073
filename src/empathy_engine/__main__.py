from empathy_engine.cli import main

main()
